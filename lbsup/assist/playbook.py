"""Workspace playbooks: one YAML file per client business, loaded into frozen dataclasses.

Schema (every key below is known; any other key is an error). See
``lbsup/demo/playbooks/*.yaml`` for complete, commented examples.

    workspace: bright-smile                 # slug
    version: "2025-03-01"                   # optional label, shown next to the content hash
    business:
      name: Bright Smile Dental
      timezone: America/Los_Angeles         # IANA name; dates in messages resolve here
      region: US                            # phone-number region (ISO 3166 alpha-2)
      hours: "Mon–Fri 8:00–17:00"           # free text, or a mapping day -> text
      address / phone / website: text
      policies: {key: text}                 # facts replies may quote ({policy.key} is not a slot)
      languages: [en, es]                   # optional (default [en]): languages replies may be written in;
                                            # the guardrails check drafts with each one's phrase table
    teams: [{slug, name, lead}]
    escalation_owner: manager               # team that receives every escalation
    triage_team: front-desk                 # optional: team for `unsure` messages (default: escalation_owner)
    confidence_threshold: 0.45              # top probability below this => category `unsure`
    tone: {greeting, sign_off, avoid: [phrases], max_length: chars, formality: formal|friendly|casual}
    tools_allowed: [tag, route, summarize, draft, prepare_crm_note]   # `send` and synonyms are rejected
    crm_note: {fields: [ordered field names]}
    identifiers: [{kind: order_number, pattern: 'NW-\\d{6}', description}]
    categories:
      - slug, name, description, team, handling: routine|review|escalate|qualify
        examples: [customer messages]       # training data for the category model
        sla: {low|normal|high|urgent: {first_response, next_response, resolution}}  # business hours
        next_steps: [ordered text]
        replies: [{id, description, examples, template: "text with {slots}", slots: [required slots]}]
        qualification: [{field, question}]  # only, and required, for handling: qualify
    holidays: [2025-12-25, "2026-01-01"]    # dates the business is closed: SLA clocks do not run
    nudge: "text with {slots}"              # optional: the follow-up sent when a customer has not replied
    escalation_rules:                       # each rule has an id, a description and exactly ONE trigger:
      - id: legal_threat
        description: text
        words: [lawyer, chargeback]         # or patterns: [regex], categories: [slugs],
                                            # complaint_above / frustration_above / confidence_below: 0..1,
                                            # contact_flags: [vip|sensitive], amount_above: number,
                                            # repeat_contacts: {count, within_days}, urgency_at_least: level

Regexes (identifiers, rule patterns) are checked for nested quantifiers and length,
then compiled with RE2, whose matching time is linear in the text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string
from dataclasses import dataclass, field
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import re2
import yaml

from lbsup.assist.phrases import LANGUAGES as GUARDRAIL_LANGUAGES
from lbsup.assist.re2_options import re2_options

# YAML bounds, checked on the event stream before any tree is built. The demo playbooks
# are ~20 KB, ~800 nodes and 6 levels deep (the schema itself needs 6): each limit leaves
# a wide margin for a real business and still refuses a bomb within milliseconds.
MAX_PLAYBOOK_BYTES = 256 * 1024
MAX_YAML_NODES = 20_000
MAX_YAML_DEPTH = 20
MAX_PATTERN_LENGTH = 200
MAX_SLA_HOURS = 2000.0
MAX_HOLIDAYS = 400
DEFAULT_NUDGE = ("{greeting}\n\nWe wanted to check in on your message: is there anything else we can do for you? "
                 "Just reply to this email and we will pick it up.\n\n{sign_off}")
HANDLINGS = ("routine", "review", "escalate", "qualify")
PRIORITIES = ("low", "normal", "high", "urgent")
FORMALITIES = ("formal", "friendly", "casual")
ALLOWED_TOOLS = ("tag", "route", "summarize", "draft", "prepare_crm_note")
SENDING_TOOLS = frozenset(
    {"send", "send_reply", "send_email", "auto_send", "autosend", "auto_reply", "reply", "respond",
     "email", "dispatch", "post", "publish", "submit", "send_message", "message_customer"}
)
CONTACT_FLAGS = ("vip", "sensitive")
TRIGGERS = (
    "words", "patterns", "categories", "complaint_above", "frustration_above", "confidence_below",
    "contact_flags", "amount_above", "repeat_contacts", "urgency_at_least",
)
BUILTIN_SLOTS = frozenset(
    {"customer_name", "first_name", "customer_email", "agent_name", "manager_name", "business_name",
     "business_phone", "business_address", "business_hours", "business_website", "greeting", "sign_off"}
)
# Categories like these must never be answered as routine, whatever a playbook says.
SENSITIVE_CATEGORY_WORDS = re.compile(r"complain|emergenc|urgent|injur|legal", re.IGNORECASE)
SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
RESERVED_CATEGORIES = frozenset({"unsure"})

_RE2_OPTIONS = re2_options()
_RE2_CASELESS = re2_options(case_sensitive=False)


@dataclass(frozen=True)
class Problem:
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.path or '<root>'}: {self.message}"


class PlaybookError(ValueError):
    """All problems of a playbook at once, so an editor can fix them in one pass."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = tuple(problems)
        listing = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s)\n{listing}")


@dataclass(frozen=True)
class Business:
    name: str
    timezone: str
    region: str
    hours: str
    address: str
    phone: str
    website: str
    policies: dict[str, str]
    languages: tuple[str, ...] = ("en",)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Team:
    slug: str
    name: str
    lead: str


@dataclass(frozen=True)
class SlaTargets:
    first_response: float
    next_response: float
    resolution: float


@dataclass(frozen=True)
class Reply:
    id: str
    description: str
    examples: tuple[str, ...]
    template: str
    slots: tuple[str, ...]


@dataclass(frozen=True)
class QualificationField:
    field: str
    question: str


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    description: str
    team: str
    handling: str
    examples: tuple[str, ...]
    sla: dict[str, SlaTargets]
    next_steps: tuple[str, ...]
    replies: tuple[Reply, ...]
    qualification: tuple[QualificationField, ...]

    def sla_for(self, priority: str) -> SlaTargets:
        """Targets for a priority, falling back to the nearest slower one that is defined."""
        if priority in self.sla:
            return self.sla[priority]
        for candidate in reversed(PRIORITIES[: PRIORITIES.index(priority)]):
            if candidate in self.sla:
                return self.sla[candidate]
        return self.sla["normal"]

    @property
    def is_sensitive(self) -> bool:
        return bool(SENSITIVE_CATEGORY_WORDS.search(f"{self.slug} {self.name}"))


@dataclass(frozen=True)
class Tone:
    greeting: str
    sign_off: str
    avoid: tuple[str, ...]
    max_length: int
    formality: str


@dataclass(frozen=True)
class RepeatContacts:
    count: int
    within_days: int


@dataclass(frozen=True)
class EscalationRule:
    id: str
    description: str
    trigger: str
    words: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    contact_flags: tuple[str, ...] = ()
    level: float | None = None
    urgency: str | None = None
    repeat: RepeatContacts | None = None
    compiled: tuple[Any, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class IdentifierPattern:
    kind: str
    pattern: str
    description: str
    compiled: Any = field(compare=False, repr=False)


@dataclass(frozen=True)
class Playbook:
    workspace: str
    label: str
    content_hash: str
    business: Business
    teams: tuple[Team, ...]
    categories: tuple[Category, ...]
    tone: Tone
    escalation_rules: tuple[EscalationRule, ...]
    escalation_owner: str
    triage_team: str
    confidence_threshold: float
    tools_allowed: tuple[str, ...]
    crm_note_fields: tuple[str, ...]
    identifiers: tuple[IdentifierPattern, ...]
    holidays: tuple[dt.date, ...] = ()
    nudge: str = DEFAULT_NUDGE

    @property
    def version(self) -> str:
        label = f"{self.label}+" if self.label else ""
        return f"{self.workspace}@{label}{self.content_hash[:12]}"

    def category(self, slug: str) -> Category:
        for category in self.categories:
            if category.slug == slug:
                return category
        raise KeyError(slug)

    def team(self, slug: str) -> Team:
        for team in self.teams:
            if team.slug == slug:
                return team
        raise KeyError(slug)

    def training_examples(self) -> list[tuple[str, str]]:
        pairs = []
        for category in self.categories:
            pairs.extend((text, category.slug) for text in category.examples)
            for reply in category.replies:
                pairs.extend((text, category.slug) for text in reply.examples)
        return pairs


def load_playbook_file(path: str) -> Playbook:
    with open(path, "rb") as handle:
        raw = handle.read(MAX_PLAYBOOK_BYTES + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlaybookError(path, [Problem(1, "", f"not UTF-8 text ({error.reason})")]) from None
    return load_playbook(text, source=path)


def load_playbook(text: str, source: str = "<playbook>") -> Playbook:
    if len(text.encode("utf-8", errors="replace")) > MAX_PLAYBOOK_BYTES:
        raise PlaybookError(source, [Problem(1, "", f"file is larger than {MAX_PLAYBOOK_BYTES} bytes")])
    tree, lines = _parse_yaml(text, source)
    checker = _Checker(lines)
    playbook = checker.playbook(tree, hashlib.sha256(text.encode("utf-8")).hexdigest())
    if checker.problems:
        raise PlaybookError(source, sorted(checker.problems, key=lambda p: (p.line, p.path)))
    assert playbook is not None
    return playbook


# --- YAML with line numbers ---------------------------------------------------------------

Path = tuple[Any, ...]


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# libyaml scans far faster than the pure-Python scanner (which is quadratic on unclosed
# brackets: 20,000 of them took a minute); the pure one stays as the fallback.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TOO_DEEP = f"nested deeper than {MAX_YAML_DEPTH} levels of lists and mappings: the limit for a playbook"


def _check_events(text: str, source: str) -> None:
    """Refuse bombs from the event stream, which costs only the input read up to the first
    limit crossed: building the tree first is what made a 40 KB file take 20-46 s."""

    def refuse(event, message: str):
        raise PlaybookError(source, [Problem(event.start_mark.line + 1, "", message)])

    nodes = 0
    # One entry per open collection: None for a sequence; for a mapping, whether the
    # next node is a key (mappings alternate key, value).
    open_collections: list[bool | None] = []
    try:
        for event in yaml.parse(text, Loader=_YamlLoader):
            if isinstance(event, yaml.AliasEvent):
                refuse(event, "YAML aliases (*name) are not allowed: write each value out (aliases are how "
                              "YAML bombs like 'billion laughs' expand)")
            if isinstance(event, yaml.CollectionEndEvent):
                open_collections.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            if event.anchor is not None:
                refuse(event, f"YAML anchors (&{event.anchor}) are not allowed: a playbook writes each value out")
            nodes += 1
            if nodes > MAX_YAML_NODES:
                refuse(event, f"more than {MAX_YAML_NODES} YAML nodes (values, lists and mappings): "
                              f"the limit for a playbook")
            is_key = bool(open_collections) and open_collections[-1] is True
            if open_collections and open_collections[-1] is not None:
                open_collections[-1] = not open_collections[-1]
            if isinstance(event, yaml.ScalarEvent):
                if event.tag == _MERGE_TAG or (is_key and event.value == "<<" and event.implicit[0]):
                    refuse(event, "YAML merge keys (<<) are not allowed: write each key out")
            elif isinstance(event, yaml.CollectionStartEvent):
                if len(open_collections) >= MAX_YAML_DEPTH:
                    refuse(event, _TOO_DEEP)
                open_collections.append(True if isinstance(event, yaml.MappingStartEvent) else None)
    except yaml.YAMLError as error:
        # libyaml stops at 1,000 open brackets on its own, before it hands out the first
        # event; name the playbook's limit instead of its internal one.
        if "maximum nesting depth" not in str(getattr(error, "problem", "")):
            raise
        mark = getattr(error, "problem_mark", None)
        raise PlaybookError(source, [Problem(mark.line + 1 if mark else 1, "", _TOO_DEEP)]) from None


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[Path, int]]:
    try:
        _check_events(text, source)
        loader = _YamlLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise PlaybookError(source, [Problem(1, "", "the playbook is empty")])
            lines: dict[Path, int] = {}
            counter = [0]
            tree = _node_to_python(node, (), lines, loader, counter, source)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(error, "problem", None) or str(error)
        raise PlaybookError(source, [Problem(line, "", f"invalid YAML: {problem}")]) from None
    except RecursionError:
        raise PlaybookError(source, [Problem(1, "", "YAML is nested too deeply")]) from None
    if not isinstance(tree, dict):
        raise PlaybookError(source, [Problem(lines.get((), 1), "", "the top level must be a mapping of keys")])
    return tree, lines


def _node_to_python(node, path: Path, lines, loader, counter, source) -> Any:
    counter[0] += 1
    if counter[0] > MAX_YAML_NODES:
        raise PlaybookError(source, [Problem(node.start_mark.line + 1, format_path(path),
                                             f"more than {MAX_YAML_NODES} YAML nodes")])
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise PlaybookError(source, [Problem(key_node.start_mark.line + 1, format_path(path),
                                                     "keys must be plain text")])
            if key in result:
                raise PlaybookError(source, [Problem(key_node.start_mark.line + 1, format_path(path + (key,)),
                                                     "duplicate key")])
            result[key] = _node_to_python(value_node, path + (key,), lines, loader, counter, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_node_to_python(child, path + (i,), lines, loader, counter, source)
                for i, child in enumerate(node.value)]
    try:
        return loader.construct_object(node)
    except (yaml.YAMLError, ValueError):  # e.g. 2025-02-30 looks like a date but is none: keep the text
        return node.value


# --- regex safety -------------------------------------------------------------------------

def regex_problem(pattern: str) -> str | None:
    """Why a playbook regex is unsafe or invalid, or None when it may be used."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"pattern is longer than {MAX_PATTERN_LENGTH} characters"
    try:
        parsed = re._parser.parse(pattern)  # type: ignore[attr-defined]
    except re.error as error:
        return f"invalid regex: {error}"
    unsafe = _unsafe_construct(parsed, inside_repeat=False)
    if unsafe:
        return unsafe
    try:
        compiled = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        return f"regex is not supported by the safe matcher (RE2): {_text(error)}"
    if compiled.search("") is not None:
        return "pattern matches empty text"
    return None


def _text(error: Exception) -> str:
    arg = error.args[0] if error.args else error
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


def _unsafe_construct(parsed, inside_repeat: bool) -> str | None:
    from re import _constants as c  # type: ignore[attr-defined]

    for op, value in parsed:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high, body = value
            repeats = high is c.MAXREPEAT or high > 1
            if repeats and inside_repeat:
                return "nested quantifiers (like (a+)+) can take exponential time"
            found = _unsafe_construct(body, inside_repeat or repeats)
            if found:
                return found
        elif op is c.SUBPATTERN:
            found = _unsafe_construct(value[-1], inside_repeat)
            if found:
                return found
        elif op is c.BRANCH:
            for branch in value[1]:
                found = _unsafe_construct(branch, inside_repeat)
                if found:
                    return found
        elif op in (c.ATOMIC_GROUP,):
            found = _unsafe_construct(value, inside_repeat)
            if found:
                return found
        elif op in (c.ASSERT, c.ASSERT_NOT):
            return "lookaround assertions are not supported"
        elif op in (c.GROUPREF, c.GROUPREF_EXISTS):
            return "backreferences are not supported"
    return None


# --- validation ---------------------------------------------------------------------------

class _Checker:
    def __init__(self, lines: dict[Path, int]):
        self.lines = lines
        self.problems: list[Problem] = []

    def error(self, path: Path, message: str) -> None:
        probe = path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        self.problems.append(Problem(self.lines.get(probe, 1), format_path(path), message))

    # typed getters: report and return a harmless default so checking can go on

    def mapping(self, data: Any, path: Path, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(data, dict):
            self.error(path, f"expected a mapping, got {_kind(data)}")
            return {}
        for key in data:
            if key not in allowed:
                self.error(path + (key,), f"unknown key (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in data:
                self.error(path, f"missing required key '{key}'")
        return data

    def text(self, data: dict, key: str, path: Path, *, required: bool = True, max_length: int = 5000) -> str:
        value = data.get(key)
        if value is None:
            if required and key in data:
                self.error(path + (key,), "must not be empty")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(path + (key,), f"expected text, got {_kind(value)}")
            return ""
        value = str(value).strip()
        if required and not value:
            self.error(path + (key,), "must not be empty")
        if len(value) > max_length:
            self.error(path + (key,), f"longer than {max_length} characters")
        return value

    def slug(self, data: dict, key: str, path: Path) -> str:
        value = self.text(data, key, path, max_length=40)
        if value and not SLUG.match(value):
            self.error(path + (key,), f"'{value}' is not a slug (lowercase letters, digits, - or _)")
        return value

    def number(self, data: dict, key: str, path: Path, low: float, high: float) -> float | None:
        value = data.get(key)
        if key not in data:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(path + (key,), f"expected a number, got {_kind(value)}")
            return None
        if not low <= value <= high:
            self.error(path + (key,), f"{value} is outside {low}..{high}")
            return None
        return float(value)

    def texts(self, data: dict, key: str, path: Path, *, min_items: int = 0, max_items: int = 500,
              max_length: int = 2000) -> tuple[str, ...]:
        value = data.get(key, [])
        if value is None:
            value = []
        if not isinstance(value, list):
            self.error(path + (key,), f"expected a list, got {_kind(value)}")
            return ()
        items = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                self.error(path + (key, i), "expected non-empty text")
                continue
            if len(str(item)) > max_length:
                self.error(path + (key, i), f"longer than {max_length} characters")
                continue
            items.append(str(item).strip())
        if len(items) < min_items and len(value) >= len(items):
            self.error(path + (key,), f"needs at least {min_items} item(s), has {len(items)}")
        if len(items) > max_items:
            self.error(path + (key,), f"has more than {max_items} items")
        return tuple(items)

    def items(self, data: dict, key: str, path: Path, *, required: bool = True) -> list[tuple[Path, Any]]:
        value = data.get(key)
        if value is None:
            if required:
                self.error(path, f"missing required list '{key}'")
            return []
        if not isinstance(value, list):
            self.error(path + (key,), f"expected a list, got {_kind(value)}")
            return []
        return [(path + (key, i), item) for i, item in enumerate(value)]

    def unique(self, slugs: list[tuple[Path, str]], what: str) -> None:
        seen: set[str] = set()
        for path, slug in slugs:
            if slug and slug in seen:
                self.error(path, f"duplicate {what} '{slug}'")
            seen.add(slug)

    def safe_regex(self, pattern: str, path: Path, caseless: bool = False):
        problem = regex_problem(pattern)
        if problem:
            self.error(path, problem)
            return None
        return re2.compile(pattern, _RE2_CASELESS if caseless else _RE2_OPTIONS)

    # sections

    def playbook(self, data: dict, content_hash: str) -> Playbook | None:
        root = self.mapping(data, (), (
            "workspace", "version", "business", "teams", "escalation_owner", "triage_team",
            "confidence_threshold", "tone", "tools_allowed", "crm_note", "identifiers", "categories",
            "escalation_rules", "holidays", "nudge",
        ), required=("workspace", "business", "teams", "escalation_owner", "categories", "tone"))
        workspace = self.slug(root, "workspace", ())
        label = self.text(root, "version", (), required=False, max_length=60)
        business = self.business(root.get("business"), ("business",))
        teams = self.teams(root)
        team_slugs = {t.slug for t in teams}
        escalation_owner = self.team_ref(root, "escalation_owner", (), team_slugs)
        triage_team = self.team_ref(root, "triage_team", (), team_slugs) if "triage_team" in root else ""
        threshold = self.number(root, "confidence_threshold", (), 0.0, 0.99)
        tone = self.tone(root.get("tone"), ("tone",))
        tools = self.tools(root)
        crm_fields = self.crm_note(root)
        identifiers = self.identifiers(root)
        slot_words = BUILTIN_SLOTS | {i.kind for i in identifiers}
        categories = self.categories(root, team_slugs, slot_words)
        rules = self.rules(root, {c.slug for c in categories})
        holidays = self.holidays(root)
        nudge = self.text(root, "nudge", (), required=False, max_length=5000) or DEFAULT_NUDGE
        for slot in sorted(self.template_slots(nudge, ("nudge",)) - BUILTIN_SLOTS):
            self.error(("nudge",), f"unknown slot '{{{slot}}}' (a nudge may use {', '.join(sorted(BUILTIN_SLOTS))})")
        if self.problems:
            return None
        return Playbook(
            workspace=workspace, label=label, content_hash=content_hash, business=business, teams=teams,
            categories=categories, tone=tone, escalation_rules=rules, escalation_owner=escalation_owner,
            triage_team=triage_team or escalation_owner,
            confidence_threshold=0.45 if threshold is None else threshold,
            tools_allowed=tools, crm_note_fields=crm_fields, identifiers=identifiers, holidays=holidays,
            nudge=nudge,
        )

    def holidays(self, root: dict) -> tuple[dt.date, ...]:
        found: list[dt.date] = []
        for path, item in self.items(root, "holidays", (), required=False):
            if isinstance(item, dt.datetime) or not isinstance(item, (dt.date, str)):
                self.error(path, "expected a date like 2025-12-25")
                continue
            try:
                day = item if isinstance(item, dt.date) else dt.date.fromisoformat(item.strip())
            except ValueError:
                self.error(path, f"'{item}' is not a date like 2025-12-25")
                continue
            if day in found:
                self.error(path, f"duplicate holiday {day.isoformat()}")
            found.append(day)
        if len(found) > MAX_HOLIDAYS:
            self.error(("holidays",), f"has more than {MAX_HOLIDAYS} dates")
        return tuple(sorted(found))

    def team_ref(self, data: dict, key: str, path: Path, team_slugs: set[str]) -> str:
        slug = self.slug(data, key, path)
        if slug and slug not in team_slugs:
            self.error(path + (key,), f"unknown team '{slug}'")
        return slug

    def business(self, data: Any, path: Path) -> Business:
        data = self.mapping(data, path, ("name", "timezone", "region", "hours", "address", "phone", "website",
                                         "policies", "languages"), required=("name", "timezone", "region"))
        timezone = self.text(data, "timezone", path)
        if timezone:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError):
                self.error(path + ("timezone",), f"unknown time zone '{timezone}'")
        region = self.text(data, "region", path).upper()
        if region and region not in phonenumbers.SUPPORTED_REGIONS:
            self.error(path + ("region",), f"unknown phone region '{region}'")
        hours_value = data.get("hours", "")
        if isinstance(hours_value, dict):
            hours = "; ".join(f"{day}: {value}" for day, value in hours_value.items())
        else:
            hours = self.text(data, "hours", path, required=False)
        policies_value = data.get("policies") or {}
        policies: dict[str, str] = {}
        if not isinstance(policies_value, dict):
            self.error(path + ("policies",), f"expected a mapping, got {_kind(policies_value)}")
        else:
            for key in policies_value:
                policies[key] = self.text(policies_value, key, path + ("policies",))
        languages = tuple(dict.fromkeys(code.lower() for code in self.texts(data, "languages", path, max_items=20)))
        for i, code in enumerate(languages):
            if code not in GUARDRAIL_LANGUAGES:
                # A language the guardrails have no phrases for would let its promises through unchecked.
                self.error(path + ("languages", i), f"no guardrail phrases for language '{code}' "
                           f"(supported: {', '.join(GUARDRAIL_LANGUAGES)})")
        return Business(
            name=self.text(data, "name", path, max_length=200), timezone=timezone, region=region, hours=hours,
            address=self.text(data, "address", path, required=False),
            phone=self.text(data, "phone", path, required=False),
            website=self.text(data, "website", path, required=False), policies=policies,
            languages=languages or ("en",),
        )

    def teams(self, root: dict) -> tuple[Team, ...]:
        teams = []
        for path, item in self.items(root, "teams", ()):
            data = self.mapping(item, path, ("slug", "name", "lead"), required=("slug", "name"))
            teams.append((path + ("slug",), Team(self.slug(data, "slug", path), self.text(data, "name", path),
                                                 self.text(data, "lead", path, required=False))))
        self.unique([(p, t.slug) for p, t in teams], "team")
        if not teams and "teams" in root:
            self.error(("teams",), "needs at least one team")
        return tuple(t for _, t in teams)

    def tone(self, data: Any, path: Path) -> Tone:
        data = self.mapping(data, path, ("greeting", "sign_off", "avoid", "max_length", "formality"),
                            required=("greeting", "sign_off"))
        max_length = self.number(data, "max_length", path, 100, 10_000)
        formality = self.text(data, "formality", path, required=False) or "friendly"
        if formality not in FORMALITIES:
            self.error(path + ("formality",), f"must be one of {', '.join(FORMALITIES)}")
        return Tone(self.text(data, "greeting", path), self.text(data, "sign_off", path),
                    self.texts(data, "avoid", path), int(max_length or 1200), formality)

    def tools(self, root: dict) -> tuple[str, ...]:
        tools = self.texts(root, "tools_allowed", ())
        for i, tool in enumerate(tools):
            name = tool.lower().replace("-", "_").replace(" ", "_")
            if name in SENDING_TOOLS or name.startswith("send"):
                self.error(("tools_allowed", i),
                           f"'{tool}' is never allowed: representatives send every message themselves")
            elif name not in ALLOWED_TOOLS:
                self.error(("tools_allowed", i), f"unknown tool '{tool}' (allowed: {', '.join(ALLOWED_TOOLS)})")
        return tools

    def crm_note(self, root: dict) -> tuple[str, ...]:
        if "crm_note" not in root:
            return ("category", "summary", "details", "next_steps")
        data = self.mapping(root["crm_note"], ("crm_note",), ("fields",), required=("fields",))
        fields = self.texts(data, "fields", ("crm_note",), min_items=1, max_items=40, max_length=60)
        self.unique([(("crm_note", "fields", i), f) for i, f in enumerate(fields)], "field")
        return fields

    def identifiers(self, root: dict) -> tuple[IdentifierPattern, ...]:
        found = []
        for path, item in self.items(root, "identifiers", (), required=False):
            data = self.mapping(item, path, ("kind", "pattern", "description"), required=("kind", "pattern"))
            kind = self.slug(data, "kind", path)
            pattern = self.text(data, "pattern", path, max_length=10_000)
            compiled = self.safe_regex(pattern, path + ("pattern",)) if pattern else None
            found.append((path + ("kind",), IdentifierPattern(kind, pattern,
                                                              self.text(data, "description", path, required=False),
                                                              compiled)))
        self.unique([(p, i.kind) for p, i in found], "identifier kind")
        return tuple(i for _, i in found)

    def categories(self, root: dict, team_slugs: set[str], slot_words: frozenset[str]) -> tuple[Category, ...]:
        found = []
        for path, item in self.items(root, "categories", ()):
            found.append((path + ("slug",), self.category(item, path, team_slugs, slot_words)))
        self.unique([(p, c.slug) for p, c in found], "category")
        if "categories" in root and len(found) < 2:
            self.error(("categories",), "needs at least two categories")
        return tuple(c for _, c in found)

    def category(self, item: Any, path: Path, team_slugs: set[str], slot_words: frozenset[str]) -> Category:
        data = self.mapping(item, path, ("slug", "name", "description", "team", "handling", "examples", "sla",
                                         "next_steps", "replies", "qualification"),
                            required=("slug", "name", "team", "handling", "examples", "sla"))
        slug = self.slug(data, "slug", path)
        if slug in RESERVED_CATEGORIES:
            self.error(path + ("slug",), f"'{slug}' is reserved for low-confidence results")
        name = self.text(data, "name", path, max_length=200)
        team = self.team_ref(data, "team", path, team_slugs)
        handling = self.text(data, "handling", path)
        if handling and handling not in HANDLINGS:
            self.error(path + ("handling",), f"must be one of {', '.join(HANDLINGS)}")
        if handling == "routine" and SENSITIVE_CATEGORY_WORDS.search(f"{slug} {name}"):
            self.error(path + ("handling",), "complaints and emergencies can never be routine")
        qualification = self.qualification(data, path)
        if handling == "qualify" and not qualification:
            self.error(path, "a 'qualify' category needs a 'qualification' list of fields to collect")
        if handling != "qualify" and qualification:
            self.error(path + ("qualification",), "only 'qualify' categories collect qualification fields")
        category_slots = slot_words | {q.field for q in qualification}
        return Category(
            slug=slug, name=name, description=self.text(data, "description", path, required=False), team=team,
            handling=handling, examples=self.texts(data, "examples", path, min_items=3),
            sla=self.sla(data.get("sla"), path + ("sla",)),
            next_steps=self.texts(data, "next_steps", path, max_items=20, max_length=300),
            replies=self.replies(data, path, category_slots), qualification=qualification,
        )

    def qualification(self, data: dict, path: Path) -> tuple[QualificationField, ...]:
        found = []
        for item_path, item in self.items(data, "qualification", path, required=False):
            item_data = self.mapping(item, item_path, ("field", "question"), required=("field", "question"))
            found.append((item_path + ("field",), QualificationField(self.slug(item_data, "field", item_path),
                                                                     self.text(item_data, "question", item_path))))
        self.unique([(p, q.field) for p, q in found], "qualification field")
        return tuple(q for _, q in found)

    def sla(self, data: Any, path: Path) -> dict[str, SlaTargets]:
        data = self.mapping(data, path, PRIORITIES, required=("normal",))
        targets: dict[str, SlaTargets] = {}
        for priority in PRIORITIES:
            if priority not in data:
                continue
            at = path + (priority,)
            values = self.mapping(data[priority], at, ("first_response", "next_response", "resolution"),
                                  required=("first_response", "next_response", "resolution"))
            hours = {}
            for key in ("first_response", "next_response", "resolution"):
                value = values.get(key)
                if key not in values:
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    self.error(at + (key,), f"expected hours as a number, got {_kind(value)}")
                elif not 0 < value <= MAX_SLA_HOURS:
                    self.error(at + (key,), f"{value} hours is not a sane target (0 < hours <= {MAX_SLA_HOURS:g})")
                else:
                    hours[key] = float(value)
            if len(hours) < 3:
                continue
            if hours["first_response"] > hours["resolution"] or hours["next_response"] > hours["resolution"]:
                self.error(at, "response targets must not be longer than the resolution target")
            targets[priority] = SlaTargets(**hours)
        ordered = [p for p in PRIORITIES if p in targets]
        for slower, faster in zip(ordered, ordered[1:]):
            if targets[faster].first_response > targets[slower].first_response:
                self.error(path + (faster, "first_response"),
                           f"a '{faster}' ticket may not wait longer than a '{slower}' one")
        if "normal" not in targets:
            targets["normal"] = SlaTargets(8.0, 16.0, 40.0)
        return targets

    def replies(self, data: dict, path: Path, known_slots: frozenset[str]) -> tuple[Reply, ...]:
        found = []
        for item_path, item in self.items(data, "replies", path, required=False):
            reply = self.mapping(item, item_path, ("id", "description", "examples", "template", "slots"),
                                 required=("id", "template"))
            template = self.text(reply, "template", item_path, max_length=5000)
            slots = self.texts(reply, "slots", item_path, max_length=60)
            used = self.template_slots(template, item_path + ("template",))
            for slot in sorted(used - known_slots - set(slots)):
                self.error(item_path + ("template",), f"unknown slot '{{{slot}}}' (declare it in 'slots')")
            for i, slot in enumerate(slots):
                if not SLUG.match(slot):
                    self.error(item_path + ("slots", i), f"'{slot}' is not a valid slot name")
                elif slot not in used:
                    self.error(item_path + ("slots", i), f"slot '{slot}' is not used in the template")
            found.append((item_path + ("id",), Reply(self.slug(reply, "id", item_path),
                                                     self.text(reply, "description", item_path, required=False),
                                                     self.texts(reply, "examples", item_path), template, slots)))
        self.unique([(p, r.id) for p, r in found], "reply id")
        return tuple(r for _, r in found)

    def template_slots(self, template: str, path: Path) -> set[str]:
        try:
            fields = [name for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
        except ValueError as error:
            self.error(path, f"bad template: {error} (write literal braces as {{{{ and }}}})")
            return set()
        names = set()
        for name in fields:
            if not name or not SLUG.match(name):
                self.error(path, f"slot '{{{name}}}' must be a plain name like {{customer_name}}")
            else:
                names.add(name)
        return names

    def rules(self, root: dict, category_slugs: set[str]) -> tuple[EscalationRule, ...]:
        found = []
        for path, item in self.items(root, "escalation_rules", (), required=False):
            data = self.mapping(item, path, ("id", "description") + TRIGGERS, required=("id",))
            rule_id = self.slug(data, "id", path)
            triggers = [t for t in TRIGGERS if t in data]
            if len(triggers) != 1:
                self.error(path, f"a rule needs exactly one trigger ({', '.join(TRIGGERS)}), has {len(triggers)}")
                continue
            trigger = triggers[0]
            found.append((path + ("id",), self.rule(data, path, rule_id, trigger, category_slugs)))
        self.unique([(p, r.id) for p, r in found], "rule id")
        return tuple(r for _, r in found)

    def rule(self, data: dict, path: Path, rule_id: str, trigger: str, category_slugs: set[str]) -> EscalationRule:
        description = self.text(data, "description", path, required=False)
        make: Callable[..., EscalationRule] = lambda **kw: EscalationRule(rule_id, description, trigger, **kw)
        if trigger == "words":
            words = self.texts(data, "words", path, min_items=1, max_length=100)
            alternation = "|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True))
            return make(words=words, compiled=(re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE),))
        if trigger == "patterns":
            patterns = self.texts(data, "patterns", path, min_items=1, max_length=10_000)
            compiled = tuple(self.safe_regex(p, path + ("patterns", i), caseless=True) for i, p in enumerate(patterns))
            return make(patterns=patterns, compiled=tuple(c for c in compiled if c is not None))
        if trigger == "categories":
            categories = self.texts(data, "categories", path, min_items=1)
            for i, slug in enumerate(categories):
                if slug not in category_slugs:
                    self.error(path + ("categories", i), f"unknown category '{slug}'")
            return make(categories=categories)
        if trigger == "contact_flags":
            flags = self.texts(data, "contact_flags", path, min_items=1)
            for i, flag in enumerate(flags):
                if flag not in CONTACT_FLAGS:
                    self.error(path + ("contact_flags", i), f"unknown flag '{flag}' (known: {', '.join(CONTACT_FLAGS)})")
            return make(contact_flags=flags)
        if trigger == "urgency_at_least":
            level = self.text(data, trigger, path)
            if level not in PRIORITIES:
                self.error(path + (trigger,), f"must be one of {', '.join(PRIORITIES)}")
            return make(urgency=level)
        if trigger == "repeat_contacts":
            at = path + (trigger,)
            spec = self.mapping(data[trigger], at, ("count", "within_days"), required=("count", "within_days"))
            count = self.number(spec, "count", at, 2, 100)
            days = self.number(spec, "within_days", at, 1, 365)
            return make(repeat=RepeatContacts(int(count or 2), int(days or 1)))
        if trigger == "amount_above":
            return make(level=self.number(data, trigger, path, 0, 10_000_000))
        level = self.number(data, trigger, path, 0.0, 1.0)
        return make(level=level)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false", type(None): "nothing"}.get(
        type(value), type(value).__name__)
