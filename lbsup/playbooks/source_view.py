"""A playbook file as a person reads it: its indentation kept, keys, values and comments told
apart by Pygments' YAML lexer, each line numbered and linkable (#L-12)."""

from django.utils.safestring import mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import YamlLexer

# Classes only, no inline style: the Content-Security-Policy allows no style attribute, and the
# colours live in app.css.  Pygments escapes the text it is given.
_FORMATTER = HtmlFormatter(linespans="L", cssclass="playbook-source", wrapcode=True)


def highlighted_yaml(text: str) -> str:
    return mark_safe(highlight(text, YamlLexer(), _FORMATTER))
