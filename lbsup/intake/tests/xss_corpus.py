"""The hostile-HTML corpus in fixtures/xss_vectors.txt, and an independent check of sanitized markup.

The check re-reads the output the way a browser would (entities decoded, URL whitespace rules
of the WHATWG URL spec) and does not share code with mail_html, so a mistake there is not
repeated here."""

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

VECTORS_FILE = Path(__file__).resolve().parent / "fixtures" / "xss_vectors.txt"

# Elements that must never reach a representative's screen, whatever they hold.
FORBIDDEN_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "form",
                  "base", "meta", "link", "style", "input", "button", "select", "textarea", "isindex",
                  "template", "noscript", "xmp", "video", "audio", "source", "picture", "animate", "set",
                  "bgsound", "body", "html", "head", "title"}
# Every attribute any browser reads as a URL, on any element.
URL_ATTRIBUTES = {"href", "src", "cite", "action", "formaction", "xlink:href", "poster", "background", "longdesc",
                  "usemap", "data", "codebase", "classid", "lowsrc", "dynsrc", "manifest", "icon", "profile",
                  "srcset", "imagesrcset", "ping", "archive", "srcdoc", "values", "to", "from", "by"}
ALLOWED_URL = re.compile(r"(https?://[^/?#\\]|mailto:.|cid:.)", re.IGNORECASE | re.ASCII)
SCRIPT_SCHEME = re.compile(r"(java|vb|live)script|mocha|data", re.IGNORECASE)


def load_vectors():
    vectors = []
    for line in VECTORS_FILE.read_text(encoding="ascii").splitlines():
        if line.strip() and not line.startswith("#"):
            vectors.append(line.encode("ascii").decode("unicode_escape"))
    return vectors


def as_browser_reads(url):
    """WHATWG URL parsing's first steps, plus any Unicode space/format character in front."""
    url = re.sub(r"[\t\n\r]", "", url)
    url = url.strip("".join(map(chr, range(0x21))))
    while url and (url[0].isspace() or unicodedata.category(url[0]) in ("Cc", "Cf", "Zl", "Zp", "Zs")):
        url = url[1:]
    return url


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)

    handle_startendtag = handle_starttag


def problems(sanitized):
    """What in ``sanitized`` could run script, load from or navigate to a non-http(s)/mailto/cid URL."""
    markup = _Markup()
    markup.feed(sanitized)
    markup.close()
    found = [f"<{tag}>" for tag in markup.tags if tag in FORBIDDEN_TAGS]
    for tag, name, value in markup.attributes:
        url = as_browser_reads(value)
        if name.startswith("on") or name == "style":
            found.append(f"{tag}[{name}]")
        elif name in URL_ATTRIBUTES and not ALLOWED_URL.match(url):
            found.append(f"{tag}[{name}={value!r}]")
        elif re.match(r"[a-z0-9+.\-]*:", url, re.I) and SCRIPT_SCHEME.match(url):
            found.append(f"{tag}[{name}={value!r}]")
    return found
