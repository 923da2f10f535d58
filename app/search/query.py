"""What a query is, and what a search finds: its words and terms (a word, or a phrase with
the authors' synonyms), and the hits and results a search gives back."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from app.content.page import Page
from app.content.sections import Section
from app.search.synonyms import Synonyms

WORD = re.compile(r"\w+")
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MAX_SYNONYMS = 6  # phrases a query word may stand for, itself included
# Matches ranked and counted at most in a tier: "1000 treff" means as many or more.
MAX_RANKED = 1_000


# Words too common to narrow a search (Norwegian's and English's most common function words);
# left out of a query that has others. The second block is the rest of Snowball's Norwegian
# stop words, Nynorsk's mostly ("korleis", "eg", "ikkje"), but for "opp", "inn", "inni",
# "ned" and "upp", which narrow a search ("laste opp" is no "laste ned"), and "kom" ("kom i
# gang" is a heading of its own). With "vs" among the English ones, measured on both quality
# sets and 400 reader queries: "lora vs dreambooth" found its page (it found nothing), and
# Nynorsk questions ("korleis slettar eg kontoen", "kva er ei bøtte") theirs. Its last line,
# particles that say how a question is asked ("hva er egentlig en controlnet"): one reader
# query found its page, no query of the sets or reviews changed.
BOKMAL_STOPWORDS = frozenset(
    """
    og i jeg det at en et ei den til er som på de med han av ikke der så var meg seg men ett har
    om vi min mitt mine ha hadde hun nå over da ved fra du ut sin sitt sine dem oss man kan hans
    hvor eller hva skal selv her alle vil bli ble blitt kunne når være vært noen noe ville dere
    deres kun ja etter skulle denne dette disse for deg si mot å meget hvorfor hvordan ingen din
    ditt dine blir samme hvilken hvilke hvilket hvem hver hvis både bare enn fordi før mange også
    slik må bør burde får få gjør gjøre finnes fins hos begge henne hennes mellom siden uten vår sånn
    egentlig faktisk liksom altså visst vel jo

    blei båe dei deim deira deires di dykk dykkar då eg ein eit eitt elles hennar hjå ho hoe honom
    hoss hossen ikkje ingi inkje korleis korso kva kvar kvarhelst kven kvi kvifor me medan mi
    mykje no noka noko nokon nokor nokre sia sidan sjøl so somme somt um vart varte vere verte vore
    vors vort
""".split()
)
ENGLISH_STOPWORDS = frozenset(
    """
    the a an of is are was be what how why when where which who do does can i my me to in on for
    and or it with there any if not vs
""".split()
)
STOPWORDS = BOKMAL_STOPWORDS | ENGLISH_STOPWORDS


@dataclass(frozen=True)
class Hit:
    """One search result: the page, its language, the section that matched best and a
    passage of it, split into (text, highlighted) runs; `passage_lang`, the passage's
    language when it is another version's text (Search._as_read)."""

    page: Page
    lang: str
    section: Section | None
    passage: tuple[tuple[str, bool], ...]
    passage_lang: str | None = None


@dataclass(frozen=True)
class Results:
    """What a search found: the best hits, how many pages match in all, the query
    searched instead of the reader's when a word of theirs was corrected, and, when
    nothing was found, a spelling that finds pages, offered rather than searched, or a
    question's partial matches: pages with some of its words, no sure answer."""

    query: str
    hits: tuple[Hit, ...] = ()
    total: int = 0
    corrected: str = ""
    suggested: str = ""
    partial: tuple[Hit, ...] = ()

    @property
    def counted_all(self) -> bool:
        """False when counting stopped at MAX_RANKED: at least `total` pages match."""
        return self.total < MAX_RANKED


class Term(NamedTuple):
    """A word or phrase of a query: its phrases, as typed first, then its synonyms."""

    phrases: tuple[tuple[str, ...], ...]

    @property
    def word(self) -> str | None:
        """The word typed, when the term is one word with no synonyms."""
        return self.phrases[0][0] if len(self.phrases) == 1 and len(self.phrases[0]) == 1 else None


def visible(text: str) -> str:
    """`text` as a reader sees it: composed (å sent as a and a ring, as a Mac may, is å), with
    control and format characters (NUL, U+200B, a soft hyphen) left out."""
    return "".join(char for char in unicodedata.normalize("NFC", text) if char.isprintable() or char.isspace())


def typed(query: str) -> str:
    """A query as the reader typed it, to search and show: `visible`, its runs of white space
    one space, as far as MAX_QUERY_CHARS."""
    return " ".join(visible(query[: MAX_QUERY_CHARS * 4]).split())[:MAX_QUERY_CHARS]


def query_words(query: str) -> list[str]:
    """The words of a query, lower case, as far as MAX_QUERY_CHARS and MAX_TERMS reach."""
    return [w for w in WORD.findall(query[:MAX_QUERY_CHARS].lower()) if len(w) > 1 or w.isdigit()][:MAX_TERMS]


def terms_of(words: list[str], synonyms: Synonyms) -> list[Term]:
    """A query's terms: its words and synonym phrases, common words left out when others remain."""
    terms, at = [], 0
    while at < len(words):
        length, others = synonyms.longest_at(words, at)
        terms.append(Term((tuple(words[at : at + length]), *others[: MAX_SYNONYMS - 1])))
        at += length
    useful = [term for term in terms if not (term.word and term.word in STOPWORDS)]
    return useful or terms
