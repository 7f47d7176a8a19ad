"""Text that ends up in a mail header (a subject, a display name).

Django refuses a header value with CR or LF (BadHeaderError) only when the reply is being
sent, long after the text came in; cleaned where it enters, it can never get that far."""

import re

# Every C0 and C1 control character (CR, LF, NEL U+0085, tab, NUL, …) and the Unicode line
# and paragraph separators, which some mail software also reads as line breaks.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(value):
    """value with each control character or line break as a space, runs of spaces as one,
    nothing at either end: safe as a header value, however it is later folded."""
    if not value:
        return ""
    return " ".join(_BREAKS.sub(" ", value).split())
