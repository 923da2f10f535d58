"""Synonyms the authors own: `_synonyms.yml` in the docs folder, applied both ways.

    KI: [AI, kunstig intelligens]
    slette: [fjerne]

Each line makes one group: a search for any of its words or phrases also finds the
others. The file is read again when it changes; `flask check-docs` checks it.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import yaml

from app.content.page import YAML_LOADER

FILE_NAME = "_synonyms.yml"
MAX_FILE_BYTES = 64_000
MAX_PHRASE_WORDS = 4
MAX_GROUP_SIZE = 20
WORD = re.compile(r"\w+")

log = logging.getLogger(__name__)


class SynonymError(ValueError):
    """A synonyms file that cannot be used; the message says where and why."""


class Synonyms:
    """Groups of phrases that mean the same, each phrase a tuple of lower-case words."""

    def __init__(self, groups: tuple[tuple[tuple[str, ...], ...], ...] = ()):
        self.groups = groups
        others: dict[tuple[str, ...], dict] = {}  # phrase -> the other phrases of its groups, in order
        for group in groups:
            for phrase in group:
                others.setdefault(phrase, {}).update(dict.fromkeys(p for p in group if p != phrase))
        self._others = {phrase: tuple(found) for phrase, found in others.items() if found}
        self.words = frozenset(word for group in groups for phrase in group for word in phrase)

    def longest_at(self, words: list[str], start: int) -> tuple[int, tuple[tuple[str, ...], ...]]:
        """The longest phrase of a group starting at `words[start]`: how many words it
        takes and its other phrases; (1, ()) when none starts there."""
        for length in range(min(MAX_PHRASE_WORDS, len(words) - start), 0, -1):
            others = self._others.get(tuple(words[start : start + length]))
            if others:
                return length, others
        return 1, ()


def parse_synonyms(text: str) -> Synonyms:
    """Synonyms from the file's text; SynonymError says what is wrong."""
    try:
        data = yaml.load(text, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        raise SynonymError(f"not valid YAML: {exc}".replace("\n", " ")) from None
    if data is None:
        return Synonyms()
    if not isinstance(data, dict):
        raise SynonymError("must be a mapping: a word, a colon and a list of words that mean the same")
    groups = []
    for key, values in data.items():
        if isinstance(values, (str, int, float)):
            values = [values]
        if not isinstance(values, list) or not values:
            raise SynonymError(f"{key!r}: give a list of words, such as [AI, kunstig intelligens]")
        if len(values) + 1 > MAX_GROUP_SIZE:
            raise SynonymError(f"{key!r}: at most {MAX_GROUP_SIZE} words in a group")
        group = []
        for value in [key, *values]:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise SynonymError(f"{key!r}: {value!r} is not a word or phrase")
            phrase = tuple(WORD.findall(str(value).lower()))
            if not phrase or len(phrase) > MAX_PHRASE_WORDS:
                raise SynonymError(f"{key!r}: {value!r} must have 1 to {MAX_PHRASE_WORDS} words")
            group.append(phrase)
        groups.append(tuple(dict.fromkeys(group)))
    return Synonyms(tuple(groups))


def read_synonyms(docs_dir: str | os.PathLike) -> Synonyms:
    """The docs folder's synonyms (none when it has no file); SynonymError if it is unusable."""
    path = Path(docs_dir) / FILE_NAME
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return Synonyms()
    except OSError as exc:
        raise SynonymError(f"{FILE_NAME} cannot be read: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise SynonymError(f"{FILE_NAME} is larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return parse_synonyms(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SynonymError(f"{FILE_NAME} is not UTF-8") from None
    except SynonymError as exc:
        raise SynonymError(f"{FILE_NAME}: {exc}") from None


class SynonymFile:
    """The synonyms file of a docs folder, read again when its modification time or size
    changes; a broken edit keeps the last good synonyms and is logged once."""

    def __init__(self, docs_dir: str | os.PathLike):
        self.path = Path(docs_dir) / FILE_NAME
        self._stamp: tuple[int, int] | None = None
        self.synonyms = Synonyms()
        self.version = 0
        self.current()

    def _stat(self) -> tuple[int, int]:
        try:
            stat = self.path.stat()
        except OSError:
            return (0, -1)
        return (stat.st_mtime_ns, stat.st_size)

    def current(self) -> Synonyms:
        """The synonyms as the file says now."""
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            self.version += 1
            try:
                self.synonyms = read_synonyms(self.path.parent)
            except SynonymError as exc:
                log.error("keeping the previous synonyms: %s", exc)
        return self.synonyms
