"""What a help page is: the `Page` object, parsed from a document's text and front matter,
its plain text, and how pages group into categories."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import groupby

import yaml

from app.content.rendering import markdown_problem

# What `?doc=` may name and what a file in the docs folder may be called.
MAX_SLUG_LENGTH = 100
SLUG = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{MAX_SLUG_LENGTH - 1}}}")
# What `/go/<key>` may name and `contexts:` may list: a place in the app, such as
# `screen.upload` or `error.e1203`. Keys are case-insensitive: kept in lower case.
MAX_CONTEXT_KEY_LENGTH = 64
CONTEXT_KEY = re.compile(rf"[a-z0-9][a-z0-9._-]{{0,{MAX_CONTEXT_KEY_LENGTH - 1}}}")
# Aliases or context keys one page may name: far more than a page needs, few enough to stay cheap.
MAX_NAMES = 50
DEFAULT_CATEGORY = "Hjelpeseksjonen"

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?:(.*?)\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
OPENING = re.compile(r"\A---[ \t]*\r?\n")
# The front matter keys a page may have. Any other is an author's typo, which must not pass
# unseen: "drafts: true" would publish a draft, "reviw_by:" drop a review date.
KEYS = frozenset(
    "title description category order updated aliases contexts related next owner review_by reviewed draft "
    "translated_from".split()
)
DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")  # and a time after it, maybe
TITLE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
TAG = re.compile(r"<[^>]*>")
WHITESPACE = re.compile(r"\s+")
# libyaml's safe loader when PyYAML was built with it (the wheels are): about 10x faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A front matter line as authors write it: a key, then plain text that starts with no
# character YAML gives a meaning to.
PLAIN_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):[ ]+([^\s\-?:,\[\]{}#&*!|>'\"%@`].*)")
YAML_TEXT, YAML_INT, YAML_TIMESTAMP, YAML_BOOL = (
    f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "timestamp", "bool")
)
WHOLE_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What `translated_from:` holds: a text digest (see text_digest), as `flask translated` writes it.
TEXT_DIGEST = re.compile(r"[0-9a-f]{16}")
MAX_OWNER_CHARS = 100
_resolver = yaml.resolver.Resolver()


class DocumentError(ValueError):
    """A document that cannot be read or parsed; the message names the file."""


@dataclass(frozen=True)
class Page:
    """One help document: its metadata, Markdown body and the file version it came from."""

    slug: str
    title: str
    description: str
    category: str
    order: int
    body: str
    mtime_ns: int  # with size: how the store notices that the file changed
    size: int
    updated: datetime | None = None  # front matter `updated:`, when the author gave one
    digest: str = ""  # of the file's bytes: the same on every replica with the same text
    # Front matter `aliases:` (old slugs that lead here) and `contexts:` (the app's places this
    # page helps with). Part of the file, so `version` changes with them.
    aliases: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    # Front matter `related:` (pages the author pins first under "Relaterte sider") and
    # `next:` (the next steps of a task that takes several pages, in order).
    related: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    # For the authors: who answers for the page (`owner:`, never shown to readers), the day it
    # is due a review (`review_by:`) and the day it last had one (`reviewed:`, shown to readers).
    owner: str = ""
    review_by: date | None = None
    reviewed: date | None = None
    # `draft: true`: shown only where the app runs with PREVIEW on (see DocumentStore).
    draft: bool = False
    # A translation's `translated_from:`: the text_digest of the page it was translated from.
    translated_from: str = ""
    # Of this page's title, description: and text, whitespace aside: what a translation records.
    text_digest: str = ""
    # An author's slips the page is served with all the same (as the old system served it),
    # and `make check` fails on: a key no page has ("drafts: true"), front matter left open.
    slips: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        """Identifies this version of the page by its content: changes when the text does."""
        return self.digest

    @property
    def last_changed(self) -> datetime:
        """When the page last changed: front matter `updated:`, else the file's time."""
        return self.updated or datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)


def parse_document(slug: str, text: str, mtime_ns: int = 0, size: int = 0) -> Page:
    """Build a Page from a document's text: optional YAML front matter, then Markdown.

    Anything wrong with the text, however it shows (a date that does not exist, a number
    too long to read), is a DocumentError.
    """
    try:
        return _parse(slug, text, mtime_ns, size)
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad file must never break the others
        raise DocumentError(f"cannot be read: {type(exc).__name__}: {exc}".replace("\n", " ")) from None


def _parse(slug: str, text: str, mtime_ns: int, size: int) -> Page:
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    text = text.removeprefix("\ufeff")
    meta: dict = {}
    slips: list[str] = []
    match = FRONT_MATTER.match(text)
    if match:
        front = match.group(1) or ""
        try:
            meta = plain_front_matter(front)
            if meta is None:
                meta = yaml.load(front, Loader=YAML_LOADER) or {}
        except yaml.YAMLError as exc:
            raise DocumentError(f"front matter is not valid YAML: {exc}".replace("\n", " ")) from None
        except ValueError:  # from YAML's constructors: a date that does not exist, a number too long
            if not (message := _no_such_day(front)):
                raise
            raise DocumentError(message) from None
        if not isinstance(meta, dict):
            raise DocumentError("front matter must be a mapping of keys to values")
        slips += _unknown_keys(meta)
        text = text[match.end() :]
    elif OPENING.match(text):
        slips.append("front matter has no closing '---' line, so readers see it as text (a rule at the top is '***')")
    title = _text_field(meta, "title") or _first_heading(text)
    if not title:
        raise DocumentError("no title: add a '# Heading' line or 'title:' front matter")
    order = meta.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool) or abs(order) > 10**9:
        raise DocumentError("front matter 'order' must be a whole number (at most 9 digits)")
    problem = markdown_problem(text)
    if problem:
        raise DocumentError(problem)
    return Page(
        slug=slug,
        title=title,
        description=_text_field(meta, "description") or _first_paragraph(text),
        category=_text_field(meta, "category") or DEFAULT_CATEGORY,
        order=order,
        body=text,
        mtime_ns=mtime_ns,
        size=size,
        updated=_date_field(meta, "updated"),
        digest=digest,
        aliases=_names_field(meta, "aliases", SLUG, "slugs (a-z, 0-9 and -)"),
        contexts=_names_field(meta, "contexts", CONTEXT_KEY, "context keys (a-z, 0-9, '.', '_' and -, at most 64)"),
        related=_names_field(meta, "related", SLUG, "slugs (a-z, 0-9 and -)"),
        next_steps=_names_field(meta, "next", SLUG, "slugs (a-z, 0-9 and -)"),
        owner=_text_field(meta, "owner")[:MAX_OWNER_CHARS],
        review_by=_day_field(meta, "review_by"),
        reviewed=_day_field(meta, "reviewed"),
        draft=_flag_field(meta, "draft"),
        translated_from=_digest_field(meta, "translated_from"),
        text_digest=text_digest(title, text, _text_field(meta, "description")),
        slips=tuple(slips),
    )


def text_digest(title: str, body: str, description: str = "") -> str:
    """The first 16 hex digits of the SHA-256 of a page's title, `description:` and body with
    whitespace normalised (every run of it one space): what a translation records in
    `translated_from:`. The rest of the front matter is not part of it, so a new `updated:`
    or `owner:` is no change to translate; a page without a description has the digest it
    had before descriptions counted. A description is kept apart from the title and body
    (a NUL, which no whitespace is), so that no words move between them unseen."""
    text = " ".join(f"{title}\n{body}".split())
    if description.strip():
        text = f"{' '.join(title.split())}\0{' '.join(description.split())}\0{' '.join(body.split())}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plain_front_matter(text: str) -> dict | None:
    """Front matter of `key: value` lines only, read without a YAML parser: what YAML would
    read, or None when a line could mean more to YAML (a comment, quotes, anything across
    lines, a number or date in another form than 12 or 2026-11-26), for YAML to read.

    PyYAML builds what libyaml parses in Python: 46 µs a page, a quarter of checking
    10,000 pages at start-up. What a value is stays YAML's own resolver's call.
    """
    meta = {}
    for line in text.split("\n"):
        match = PLAIN_LINE.fullmatch(line)
        if match is None:
            return None
        key, value = match.groups()
        if (
            ": " in value
            or " #" in value
            or value.endswith((" ", ":"))
            or not value.isprintable()
            or _resolver.resolve(yaml.ScalarNode, key, (True, False)) != YAML_TEXT
        ):
            return None
        kind = _resolver.resolve(yaml.ScalarNode, value, (True, False))
        if kind == YAML_TEXT:
            meta[key] = value
        elif kind == YAML_BOOL and value.lower() in ("true", "false"):
            meta[key] = value.lower() == "true"
        elif kind == YAML_INT and WHOLE_NUMBER.fullmatch(value):
            meta[key] = int(value)
        elif kind == YAML_TIMESTAMP and ISO_DATE.fullmatch(value):
            try:
                meta[key] = date.fromisoformat(value)
            except ValueError:  # no such day: YAML says so
                return None
        else:
            return None
    return meta


def _unknown_keys(meta: dict) -> list[str]:
    """A line for each key of `meta` that a page cannot have, with the key it may have meant."""
    unknown = sorted(one_line(str(key))[:40] for key in meta if key not in KEYS)
    return [f"front matter has an unknown key '{key}', which does nothing{_meant(key)}" for key in unknown]


def one_line(text: str) -> str:
    """`text` as one line of printable characters, for a message (a file's name, a key):
    a line break or an escape sequence shows as Python writes it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _meant(key: str) -> str:
    near = difflib.get_close_matches(key, KEYS, n=1)
    return f": did you mean '{near[0]}'?" if near else f" (a page may have {', '.join(sorted(KEYS))})"


def _no_such_day(front: str) -> str | None:
    """What to tell an author whose front matter has a date or time that does not exist, if it has."""
    try:
        meta = yaml.load(front, Loader=yaml.BaseLoader)  # every value a string
    except yaml.YAMLError:
        return None
    items = sorted(meta.items(), key=lambda item: item[0] not in KEYS) if isinstance(meta, dict) else ()
    for key, value in items:  # the keys a page has first
        value = value.strip() if isinstance(value, str) else ""
        if _resolver.resolve(yaml.ScalarNode, value, (True, False)) != YAML_TIMESTAMP:
            continue  # text, for YAML: "2026-02-30 er ingen dag"
        try:
            date(*map(int, DAY.match(value).groups()))
        except ValueError:
            what = "a day"
        else:
            try:
                yaml.load(value, Loader=YAML_LOADER)
                continue
            except ValueError:  # "2026-02-28 24:00:00"
                what = "a time"
        unknown = "" if key in KEYS else f", under a key no page has{_meant(str(key))}"
        return f"front matter {one_line(f'{key[:40]!r} is {value[:40]}')}, {what} that does not exist{unknown}"
    return None


def _date_field(meta: dict, key: str) -> datetime | None:
    """A front matter date (`2026-11-26`, or a date and time) as UTC, or None when absent."""
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise DocumentError(f"front matter '{key}' must be a date such as 2026-11-26")


def _day_field(meta: dict, key: str) -> date | None:
    """A front matter day (`2026-11-26`), or None when absent."""
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise DocumentError(f"front matter '{key}' must be a date such as 2026-11-26")


def _flag_field(meta: dict, key: str) -> bool:
    """A front matter `true` or `false` (false when absent)."""
    value = meta.get(key, False)
    if not isinstance(value, bool):
        raise DocumentError(f"front matter '{key}' must be true or false")
    return value


def _digest_field(meta: dict, key: str) -> str:
    """A text digest as `flask translated` writes it, or '' when absent. (Sixteen decimal
    digits unquoted are a number to YAML: the command quotes those.)"""
    value = meta.get(key)
    if value is None:
        return ""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not TEXT_DIGEST.fullmatch(text):
        raise DocumentError(f"front matter '{key}' must be the 16 hex digits `make translated` writes")
    return text


def _names_field(meta: dict, key: str, pattern: re.Pattern, what: str) -> tuple[str, ...]:
    """A front matter list of names (`[a, b]`, or one name), lower case, each once, in order."""
    value = meta.get(key)
    if value is None:
        return ()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or len(names) > MAX_NAMES:
        raise DocumentError(f"front matter '{key}' must be a list of at most {MAX_NAMES} {what}")
    found = []
    for name in names:
        # ASCII first: some other letters are ASCII in lower case (the Kelvin sign is a "k").
        name = name.strip().lower() if isinstance(name, str) and name.isascii() else name
        if not isinstance(name, str) or not pattern.fullmatch(name):
            hint = ": a list is written [a, b]" if isinstance(name, str) and "," in name else ""
            raise DocumentError(f"front matter '{key}' has {repr(name)[:80]}, which is malformed: {what} only{hint}")
        found.append(name)
    return tuple(dict.fromkeys(found))


def _text_field(meta: dict, key: str) -> str:
    """A front matter value as a single line of text, or '' when absent."""
    value = meta.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise DocumentError(f"front matter '{key}' must be text")
    return WHITESPACE.sub(" ", str(value)).strip()


def _first_heading(text: str) -> str:
    match = TITLE.search(text)
    return plain_text(match.group(1)) if match else ""


def _first_paragraph(text: str, limit: int = 160) -> str:
    """The first prose paragraph as plain text, cut at a word near `limit` characters."""
    for block in re.split(r"\n[ \t]*\n", text):
        block = block.strip()
        if block and not block.startswith(("#", "<", "```", "|", "---")):
            plain = plain_text(block)
            if len(plain) <= limit:
                return plain
            return plain[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
    return ""


def plain_text(markdown_text: str) -> str:
    """Markdown inline text reduced to plain words: links to their text, no markup."""
    text = MARKDOWN_LINK.sub(r"\1", markdown_text) if "](" in markdown_text else markdown_text
    if "<" in text:
        text = TAG.sub(" ", text)
    # "_" stays: it is part of words more often than it is markup.
    return " ".join(text.replace("*", "").replace("`", "").split())


def categories(pages: Iterable[Page], first: Iterable[str] = ()) -> list[tuple[str, list[Page]]]:
    """Pages grouped by category: the categories named in `first` in that order, then the
    rest by name; within each, by `order` and title."""
    order = {name: i for i, name in enumerate(first)}

    def category_rank(page: Page):
        return (order.get(page.category, len(order)), page.category.casefold())

    ordered = sorted(pages, key=lambda p: (category_rank(p), p.order, p.title.casefold()))
    return [(name, list(group)) for name, group in groupby(ordered, key=lambda p: p.category)]
