"""Every regular expression of the engine and of intake, against inputs shaped to make a
backtracking regex slow (issue #17, finding 6).

The patterns are found, not listed: each compiled `re` pattern held by a module of `lbsup.assist`
or `lbsup.intake` (directly or in a dict, list or tuple), so a new one is swept without anyone
remembering to add it.  Each is run with finditer, the most demanding use: a pattern that is only
ever anchored today may be searched tomorrow.  google-re2 patterns are linear by construction and
not re.Pattern, so they are not here.
"""

import importlib
import pkgutil
import re
import time

PACKAGES = ("lbsup.assist", "lbsup.intake")


def adversarial_inputs(size: int) -> dict[str, str]:
    """Runs of what patterns repeat (whitespace, delimiters, digits, prefixes), with no match at the end."""
    units = {
        "newlines": "\n", "spaces": " ", "space-newline": " \n", "tab-crlf": "\t\r\n", "letters": "a",
        "capitalised words": "Ab ", "digits": "1", "digit commas": "1,", "digit dots": "1.", "digit colons": "1:",
        "dashes": "-", "underscores": "_", "dots": ".", "slashes": "/", "equals": "=", "hashes": "#",
        "angle brackets": "<", "quote marks": "> ", "at-dots": "a@a.", "reply prefixes": "re:",
        "ticket tags": "[#1", "phone-like": "+1 ", "url-like": "http://a", "encoded words": "=?a?q?",
    }
    return {name: (unit * (size // len(unit) + 1))[:size] + "\x01" for name, unit in units.items()}


def swept_patterns() -> dict[str, re.Pattern]:
    found = {}
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.walk_packages(package.__path__, package_name + "."):
            if ".tests" in module_info.name or ".migrations" in module_info.name:
                continue
            module = importlib.import_module(module_info.name)
            for name, value in vars(module).items():
                for path, pattern in _patterns_in(value, f"{module_info.name}.{name}"):
                    found.setdefault(pattern, path)  # a pattern imported elsewhere is swept once
    return {path: pattern for pattern, path in found.items()}


def _patterns_in(value, path, depth=0):
    if isinstance(value, re.Pattern):
        yield path, value
    elif depth < 3 and isinstance(value, dict):
        for key, item in value.items():
            yield from _patterns_in(item, f"{path}[{str(key)[:40]!r}]", depth + 1)
    elif depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            yield from _patterns_in(item, f"{path}[{index}]", depth + 1)


def sweep(size: int, on_start=lambda path, input_name: None):
    """Yields (seconds, pattern path, input name) for every pattern on every input."""
    inputs = adversarial_inputs(size)
    as_bytes = {name: text.encode() for name, text in inputs.items()}
    for path, pattern in swept_patterns().items():
        texts = as_bytes if isinstance(pattern.pattern, bytes) else inputs
        for input_name, text in texts.items():
            on_start(path, input_name)
            started = time.perf_counter()
            for _ in pattern.finditer(text):
                pass
            yield time.perf_counter() - started, path, input_name
