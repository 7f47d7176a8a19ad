"""Make mail HTML safe to show to a representative, and turn it into plain text.

Sanitising is nh3's allow-list (no scripts, event handlers, styles, SVG, iframes,
forms, meta refresh); plain text keeps paragraph breaks and marks blockquotes
with ``>`` so that quoted replies in HTML-only mail can be told apart.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}

# nh3 never keeps these in attributes; the same words in visible text are
# entity-encoded too, so a plain substring check on the output is trustworthy.
_SCRIPT_URL_TEXT = re.compile(r"(java|vb)script:", re.IGNORECASE)
_EVENT_HANDLER_TEXT = re.compile(r"(\son[a-z]+)=", re.IGNORECASE)


def sanitize_html(html: str) -> str:
    """Return ``html`` reduced to harmless markup; links get rel="noopener noreferrer"."""
    if not html.strip():
        return ""
    cleaned = nh3.clean(
        html.replace("\x00", ""),
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head", "svg", "math", "template", "noscript"},
        url_schemes=_ALLOWED_URL_SCHEMES,
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
