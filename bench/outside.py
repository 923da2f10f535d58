"""Search quality on corpora nobody here wrote: the Dapla manual of Statistics Norway,
converted to this project's page format (bench/quality_outside/docs), with queries
written by fixed rules before any search system ran on them (bench/quality_outside/queries.yml),
and a second such set, Digdir's Designsystemet (bench/quality_digdir, made by bench/digdir.py).

Usage:
    python -m bench.outside                   # the per-kind table, both systems, every set
    python -m bench.outside --misses          # and every query a system missed
    python -m bench.outside convert GIT_DIR   # (re)make the pages from a fetched dapla-manual

Two systems, side by side: this project's search, asked as a black box through
`/api/search` of an app built on the corpus, and a plain BM25 baseline (bm25s with the
Norwegian Snowball stemmer and bm25s's Norwegian stop words, title three times and body,
OR semantics). Each is measured on the two outside sets and on the in-house set
(bench/quality), and the table goes to stdout and to bench/out/outside.md.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
OUTSIDE = BENCH / "quality_outside"
DIGDIR = BENCH / "quality_digdir"
INHOUSE = BENCH / "quality"
OUT = BENCH / "out" / "outside.md"

SOURCE_REPO = "statisticsnorway/dapla-manual"
SOURCE_COMMIT = "9db5e4ec928665a00000808661386ce8957580f8"
SOURCE_ROOT = "dapla-manual/"

# The kinds, in the order they are reported; the in-house set's names for the same kinds.
KINDS = ["title", "typo", "inflection", "compound_parts", "question", "english", "no_answer"]
INHOUSE_KINDS = {
    "exact_title": "title",
    "one_typo": "typo",
    "inflection": "inflection",
    "compound_part": "compound_parts",
    "natural_question": "question",
    "english_term": "english",
    "no_answer": "no_answer",
}
NO_ANSWER = "no_answer"
MIN_WORDS = 40  # a converted page with fewer words of text is left out (listing pages)
TOP_K = 10


# ---------------------------------------------------------------------------------------
# Conversion: a Quarto page (.qmd) of the Dapla manual into a page of this project.
# ---------------------------------------------------------------------------------------

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})")  # in a list or a quote too
_DIV = re.compile(r"^[ \t]*:{3,}(.*)$")
_DIV_TITLE = re.compile(r"""title\s*=\s*["']([^"']+)["']""")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_RAW_BLOCK = re.compile(r"<(style|script)\b.*?</\1\s*>", re.S | re.I)
_SHORTCODE = re.compile(r"\{\{<.*?>\}\}", re.S)
_IMAGE = re.compile(r"!\[(?:[^\[\]]|\[[^\]]*\])*\]\([^)]*\)(?:\{[^}]*\})?")
_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)(?:\{[^}]*\})?")
_SPAN = re.compile(r"\[([^\[\]]*)\]\{[^}]*\}")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_ATTRS = re.compile(r"\s*\{[#.][^}]*\}\s*$")
_CROSSREF = re.compile(r"\[?-?@(fig|tbl|sec|lst|eq|thm)-[\w-]*\w\]?")
# What Quarto writes for a cross-reference in a Norwegian page, without the number.
_CROSSREF_WORD = {
    "fig": "Figur",
    "tbl": "Tabell",
    "sec": "Avsnitt",
    "lst": "Kodeblokk",
    "eq": "Ligning",
    "thm": "Teorem",
}
_LINK_ATTRS = re.compile(r"(\]\([^()\s]*\))\{[^{}]*\}", re.S)
_INLINE_FOOTNOTE = re.compile(r"\^\[([^\[\]]*)\]")
_INLINE_CHUNK = re.compile(r"`\{(?:python|r|ojs)\}[^`]*`")
_CITATION = re.compile(r"\[-?@[\w:-]+[^\[\]]*\]")
_REFERENCE_DEF = re.compile(r"^\s{0,3}\[([^\]^]+)\]:\s+\S+.*$", re.M)
_FOOTNOTE_MARK = re.compile(r"\[\^[^\]]+\](?!:)")
_FOOTNOTE_DEF = re.compile(r"^\[\^[^\]]+\]:\s*")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_WORD = re.compile(r"\w+")


@dataclass
class Converted:
    slug: str
    title: str
    description: str
    body: str

    def markdown(self) -> str:
        front = f"---\ndescription: {_one_line(self.description)}\n---\n" if self.description else ""
        return f"{front}# {self.title}\n\n{self.body}\n"


def slug_for(path: str) -> str:
    """`dapla-manual/news/posts/2025-03-17-bucket-list/index.qmd` -> `news-2025-03-17-bucket-list`:
    the path under dapla-manual/ without `.qmd`, a last `index` (under a folder) and a
    `posts` folder, in lowercase ascii (æ ae, ø o, å a), any other run of signs a dash."""
    parts = path.removeprefix(SOURCE_ROOT).removesuffix(".qmd").split("/")
    if len(parts) > 1 and parts[-1] == "index":
        parts.pop()
    parts = [part for part in parts if part != "posts"]
    text = "-".join(parts).lower()
    for letter, ascii_ in (("æ", "ae"), ("ø", "o"), ("å", "a")):
        text = text.replace(letter, ascii_)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:100].rstrip("-")


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    # A plain YAML scalar: quote it when YAML would read it otherwise.
    if re.search(r"[:#\[\]{}&*!|>'\"%@`,]", text) or text[:1] in "-?":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        meta = {}
    return (meta if isinstance(meta, dict) else {}), text[match.end() :]


def _inline(line: str, labels: frozenset[str] = frozenset()) -> str:
    line = _SHORTCODE.sub("", line)
    line = _IMAGE.sub("", line)
    line = _CITATION.sub("", line)
    line = _CROSSREF.sub(lambda m: _CROSSREF_WORD[m.group(1)], line)
    line = _INLINE_CHUNK.sub("", line)
    line = _INLINE_FOOTNOTE.sub(lambda m: f" ({m.group(1)})", line)
    for _ in range(2):  # a link inside a span, or the other way round
        line = _LINK.sub(lambda m: m.group(1), line)
        line = _SPAN.sub(lambda m: m.group(1), line)
    if labels:  # a reference-style link: [text] with a definition elsewhere in the page
        line = re.sub(
            r"\[([^\[\]]+)\](?!\()", lambda m: m.group(1) if m.group(1).lower() in labels else m.group(0), line
        )
    line = _AUTOLINK.sub(lambda m: m.group(1), line)
    line = _TAG.sub("", line)
    line = _FOOTNOTE_MARK.sub("", line)
    line = _FOOTNOTE_DEF.sub("", line)
    line = html.unescape(line).replace("\xa0", " ")
    return re.sub(r"[ \t]{2,}", " ", line).rstrip()


def convert_page(path: str, text: str) -> Converted | None:
    """One page: title (front matter `title:`, else the first `# ` heading, else
    `pagetitle:`; as plain text, without `*` and backticks), description (front matter
    `subtitle:` or `description:`), and the body with front matter (and a repeated one),
    code blocks, raw HTML, HTML comments, div fences, shortcodes, images, citations and
    reference-link definitions taken out, links kept as their text, tables as lines of
    text, a cross-reference as the word Quarto writes for it (`@fig-x`: Figur), a
    callout's title as a bold line, and headings kept (a `# ` in the body becomes `## `).
    None for a draft."""
    meta, body = _front_matter(text.replace("\r\n", "\n"))
    if meta.get("draft") is True:
        return None
    second, rest = _front_matter(body.lstrip("\n"))  # a page that repeats its front matter
    if second:
        body = rest
    body = _COMMENT.sub("", body)
    body = _RAW_BLOCK.sub("", body)
    body = _SHORTCODE.sub("", body)  # a shortcode may run over lines
    body = _LINK_ATTRS.sub(lambda m: m.group(1), body)  # and so may a link's attributes
    labels = frozenset(label.lower() for label in _REFERENCE_DEF.findall(body))
    body = _REFERENCE_DEF.sub("", body)
    title = str(meta.get("title") or "").strip()
    description = str(meta.get("subtitle") or meta.get("description") or "").strip()
    lines, fence = [], None
    for raw in body.split("\n"):
        if fence:
            if re.match(rf"^[ \t>]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", raw):
                fence = None
            continue
        opening = _FENCE.match(raw)
        if opening:
            fence = opening.group(1)
            continue
        div = _DIV.match(raw)
        if div:
            called = _DIV_TITLE.search(div.group(1))
            if called:  # a callout's title, written by the authors
                lines.extend(["", f"**{_inline(called.group(1))}**", ""])
            continue
        if _TABLE_RULE.match(raw) and "|" in raw:
            continue
        stripped = raw.strip()
        if stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 2:
            cells = [_inline(cell.strip(), labels) for cell in stripped.strip("|").split("|")]
            cells = [cell for cell in cells if cell]
            lines.append("- " + "; ".join(cells) if cells else "")
            continue
        heading = _HEADING.match(raw)
        if heading:
            level, words = heading.group(1), _inline(_ATTRS.sub("", heading.group(2))).strip()
            if not words:
                continue
            if not title and level == "#":
                title = words
                continue
            lines.append(f"{'##' if level == '#' else level} {words}")
            continue
        line = _ATTRS.sub("", _inline(raw, labels))
        if line.startswith(": "):  # a table's or a figure's caption
            line = line[2:]
        if line.strip() in {"---", "***", "___"}:
            line = ""
        lines.append(line)
    if not title:
        title = str(meta.get("pagetitle") or "").strip()
    text_out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not title:
        return None
    title = " ".join(_inline(title).replace("`", "").replace("*", "").split())  # a title is plain text
    return Converted(slug_for(path), title, " ".join(_inline(description).split()), text_out)


def _words(text: str) -> int:
    return len(_WORD.findall(re.sub(r"^#+ .*$", "", text, flags=re.M)))


def convert(git_dir: Path, commit: str = SOURCE_COMMIT, out: Path = OUTSIDE / "docs") -> list[str]:
    """Make the pages from a git directory of dapla-manual at `commit`: every `.qmd` under
    dapla-manual/, except a draft, a page whose text names Altinn anywhere (the Altinn
    documentation is held out elsewhere: nothing here may come near it), and a page with
    fewer than MIN_WORDS words of text once converted. Writes `out/<slug>.md` (removing
    the pages there first) and returns the slugs written. Reads the files with git, so a
    bare mirror will do."""

    def git(*args: str) -> bytes:
        return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True).stdout

    paths = [
        p
        for p in git("ls-tree", "-r", "-z", "--name-only", commit).decode().split("\0")
        if p.startswith(SOURCE_ROOT) and p.endswith(".qmd")
    ]
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.md"):
        old.unlink()
    written, skipped = [], []
    for path in sorted(paths):
        text = git("cat-file", "blob", f"{commit}:{path}").decode("utf-8")
        if "altinn" in text.lower() or "altinn" in path.lower():
            skipped.append((path, "names Altinn"))
            continue
        page = convert_page(path, text)
        if page is None:
            skipped.append((path, "draft or no title"))
            continue
        if _words(page.body) < MIN_WORDS:
            skipped.append((path, f"fewer than {MIN_WORDS} words"))
            continue
        if page.slug in written:
            raise ValueError(f"two pages make the slug {page.slug}")
        (out / f"{page.slug}.md").write_text(page.markdown(), encoding="utf-8")
        written.append(page.slug)
    for path, why in skipped:
        print(f"left out {path}: {why}", file=sys.stderr)
    print(f"{len(written)} pages written to {out}, {len(skipped)} left out", file=sys.stderr)
    return written


# ---------------------------------------------------------------------------------------
# The pages and the queries of a set.
# ---------------------------------------------------------------------------------------


def read_pages(docs: Path) -> dict[str, tuple[str, str]]:
    """slug -> (title, body text) for every page directly in `docs`."""
    pages = {}
    for path in sorted(docs.glob("*.md")):
        meta, body = _front_matter(path.read_text(encoding="utf-8"))
        title = str(meta.get("title") or "").strip()
        match = re.search(r"^#\s+(.+?)\s*$", body, re.M)
        if not title and match:
            title = match.group(1)
            body = body[: match.start()] + body[match.end() :]
        description = str(meta.get("description") or "")
        pages[path.stem] = (title, f"{description}\n{body}")
    return pages


def title_sample(docs: Path = OUTSIDE / "docs", count: int = 60, seed: int = 28) -> dict[str, list[str]]:
    """The title queries' rule: `count` pages drawn with random.Random(seed) from the
    sorted slugs; each query is the page's exact title, answered by every page with the
    same title (casefolded)."""
    pages = read_pages(docs)
    chosen = random.Random(seed).sample(sorted(pages), count)
    by_title: dict[str, list[str]] = {}
    for slug, (title, _) in pages.items():
        by_title.setdefault(title.casefold(), []).append(slug)
    return {pages[slug][0]: sorted(by_title[pages[slug][0].casefold()]) for slug in sorted(chosen)}


_ROWS = ["qwertyuiopå", "asdfghjkløæ", "zxcvbnm"]
_EDITS = ["insertion", "deletion", "substitution", "transposition"]


def _neighbours(letter: str) -> list[str]:
    """Keys next to `letter` on a Norwegian keyboard: left and right in its row, and the
    two it touches in the rows above and below (each row sits half a key to the right)."""
    for r, row in enumerate(_ROWS):
        i = row.find(letter)
        if i < 0:
            continue
        near = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
        if r > 0:
            near += [_ROWS[r - 1][j] for j in (i, i + 1) if j < len(_ROWS[r - 1])]
        if r < len(_ROWS) - 1:
            near += [_ROWS[r + 1][j] for j in (i - 1, i) if 0 <= j < len(_ROWS[r + 1])]
        return near
    return list("aeiou")


def typo_queries(docs: Path = OUTSIDE / "docs", count: int = 60, seed: int = 281) -> dict[str, list[str]]:
    """The typo queries' rule: the pages in the order random.Random(seed) shuffles them;
    in each, the longest word of its title (the first of the longest) of 5 or more letters
    that is no stop word, is in at most 3 titles (a key term, not «endringer» or «Dapla»)
    and was not taken for an earlier query; one edit in it, the kinds in turn (insertion,
    deletion, substitution, transposition), never at the first letter, a letter put in or
    swapped in being a key next to the one typed there on a Norwegian keyboard, drawn
    again when the edit makes a word that is in the corpus. The query is the edited word,
    in lowercase; it is answered by every page whose title has the word."""
    from bm25s.stopwords import STOPWORDS_NORWEGIAN

    def letters(text: str) -> list[str]:
        return re.findall(r"[^\W\d_]+", text.lower())

    pages = read_pages(docs)
    vocabulary = {w for title, body in pages.values() for w in letters(f"{title} {body}")}
    in_titles: dict[str, set[str]] = {}
    for slug, (title, _) in pages.items():
        for w in letters(title):
            in_titles.setdefault(w, set()).add(slug)
    rng = random.Random(seed)
    queries: dict[str, list[str]] = {}
    taken: set[str] = set()
    for slug in rng.sample(sorted(pages), len(pages)):
        words = [
            w
            for w in letters(pages[slug][0])
            if len(w) >= 5 and w not in STOPWORDS_NORWEGIAN and len(in_titles[w]) <= 3 and w not in taken
        ]
        if not words:
            continue
        word = max(words, key=len)
        edit = _EDITS[len(queries) % 4]
        for _ in range(50):
            if edit == "transposition":
                i = rng.choice([i for i in range(1, len(word) - 1) if word[i] != word[i + 1]])
                typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            else:
                i = rng.randrange(1, len(word))
                if edit == "insertion":
                    typo = word[:i] + rng.choice(_neighbours(word[i - 1])) + word[i:]
                elif edit == "deletion":
                    typo = word[:i] + word[i + 1 :]
                else:
                    typo = word[:i] + rng.choice([c for c in _neighbours(word[i]) if c != word[i]]) + word[i + 1 :]
            if typo not in vocabulary:
                break
        else:
            continue
        taken.add(word)
        queries[typo] = sorted(in_titles[word])
        if len(queries) == count:
            break
    return queries


def draws(kind: str, docs: Path = OUTSIDE / "docs") -> list[str]:
    """The order in which the pages were read to write the queries of a hand-written kind:
    every page once, shuffled with random.Random(the kind's seed). A writer takes the
    pages in this order and writes one query from each page that offers one for the kind,
    passing over a page that offers none, until the kind has its count."""
    seeds = {"inflection": 282, "compound_parts": 283, "question": 284, "english": 285}
    slugs = sorted(read_pages(docs))
    return random.Random(seeds[kind]).sample(slugs, len(slugs))


def load_queries(folder: Path) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Queries by kind, as (query, the slugs that answer it). The in-house set's kinds are
    renamed to this set's, and its exact titles are every page's title."""
    written = yaml.safe_load((folder / "queries.yml").read_text(encoding="utf-8"))
    kinds: dict[str, list[tuple[str, frozenset[str]]]] = {}
    if "title" not in written:  # the in-house set: the titles come from the pages
        pages = read_pages(folder / "docs")
        kinds["title"] = [(title, frozenset({slug})) for slug, (title, _) in pages.items()]
    for kind, items in written.items():
        name = INHOUSE_KINDS.get(kind, kind)
        if name == NO_ANSWER:
            kinds[name] = [(query, frozenset()) for query in items]
        else:
            kinds[name] = [(str(query), frozenset(slugs)) for query, slugs in items.items()]
    unknown = {slug for items in kinds.values() for _, slugs in items for slug in slugs} - set(
        read_pages(folder / "docs")
    )
    if unknown:
        raise ValueError(f"queries name pages that are not there: {sorted(unknown)}")
    return {kind: kinds[kind] for kind in KINDS if kind in kinds}


def unknown_words(plain: PlainBM25, count: int = 250, seed: int = 28) -> list[str]:
    """Words of the Bokmål list (app/search/data/nb-words.txt) that a reader may type and no
    page has: the list's words of 5 to 10 letters in the order random.Random(seed) shuffles
    them, each kept when the plain BM25 finds nothing for it (no page has its stem), the
    first `count`. A search that answers one alone with a page has either found it inside a
    compound or an inflection («handel» in «varehandel») or taken it for another word."""
    words = (BENCH.parent / "app" / "search" / "data" / "nb-words.txt").read_text(encoding="utf-8").split()
    drawn = [word for word in words if word.isalpha() and 5 <= len(word) <= 10]
    random.Random(seed).shuffle(drawn)
    return [word for word in drawn if not plain(word)][:count]


def measure_unknown(system, words: list[str]) -> dict:
    """How many of `words`, each alone, `system` answers with pages, and with a correction."""
    answered = corrected = 0
    for word in words:
        if system(word):
            answered += 1
            corrected += bool(getattr(system, "last_corrected", False))
    return {"words": len(words), "answered": answered, "corrected": corrected}


# ---------------------------------------------------------------------------------------
# The systems: each a function from a query to slugs, best first.
# ---------------------------------------------------------------------------------------


class PlainBM25:
    """bm25s over title (three times) and body, Norwegian Snowball stems, bm25s's
    Norwegian stop words, OR semantics, no tiers. No results when no query term (after
    stop words) is in the corpus's vocabulary."""

    name = "plain BM25"

    def __init__(self, docs: Path):
        import bm25s
        import Stemmer
        from bm25s.stopwords import STOPWORDS_NORWEGIAN

        self.stemmer = Stemmer.Stemmer("norwegian")
        pages = read_pages(docs)
        self.slugs = list(pages)
        texts = [f"{title} {title} {title}\n{body}" for title, body in pages.values()]
        self.tokenizer = bm25s.tokenization.Tokenizer(
            lower=True, stopwords=list(STOPWORDS_NORWEGIAN), stemmer=self.stemmer
        )
        corpus = self.tokenizer.tokenize(texts, update_vocab=True, return_as="ids", show_progress=False)
        self.model = bm25s.BM25()
        self.model.index(corpus, show_progress=False)
        self.vocab = self.tokenizer.get_vocab_dict()

    def __call__(self, query: str) -> list[str]:
        terms = self.tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)[0]
        terms = [term for term in terms if term != self.vocab.get("")]  # a word not in the corpus
        if not terms:
            return []
        documents, scores = self.model.retrieve([terms], k=min(TOP_K, len(self.slugs)), show_progress=False)
        return [self.slugs[int(doc)] for doc, score in zip(documents[0], scores[0], strict=True) if score > 0]


class ProjectSearch:
    """This project's search, asked as a reader's browser asks it: /api/search of an app
    built on the corpus, through Flask's test client (nothing of the app is imported but
    create_app)."""

    name = "our search"

    def __init__(self, docs: Path):
        from app import create_app

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.app = create_app(
                {
                    "TESTING": True,
                    "DOCS_DIR": str(docs),
                    "RATELIMIT_ENABLED": False,
                    # A file nothing is written to: searches are not counted (no INSIGHTS_USERS).
                    "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp(prefix='help-outside-')}/feedback.db",
                }
            )
        self.client = self.app.test_client()
        self.last_corrected = False
        self.last_partial: list[str] = []

    def __call__(self, query: str) -> list[str]:
        response = self.client.get("/api/search", query_string={"q": query, "lang": "nb"})
        if response.status_code != 200:
            raise RuntimeError(f"/api/search answered {response.status_code} for {query!r}")
        answer = response.get_json()
        self.last_corrected = bool(answer.get("corrected_query"))
        self.last_partial = [result["slug"] for result in answer["partial_results"]]
        return [result["slug"] for result in answer["results"]]


@contextlib.contextmanager
def _quiet_stdout():
    """The app writes an access line per request to file descriptor 1 (from a thread, every
    0.2 s): sent to /dev/null while it is measured, so that stdout carries the report only."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 1)
    try:
        yield
    finally:
        time.sleep(0.5)  # let the app's last batch of lines go to /dev/null too
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def measure(system, queries: dict[str, list[tuple[str, frozenset[str]]]]) -> dict:
    """Per kind: top-1 and top-3 (an answering page first / within the first three); for
    no_answer, the share of queries with no results at all (and, for our search, the share
    with none or a correction notice, «Viser treff for …»)."""
    kinds = {}
    for kind, items in queries.items():
        rows = []
        for query, answers in items:
            slugs = system(query)
            corrected = getattr(system, "last_corrected", False)
            partial = getattr(system, "last_partial", [])
            if kind == NO_ANSWER:
                top1 = top3 = not slugs
                lenient = not slugs or corrected
            else:
                rank = next((i + 1 for i, slug in enumerate(slugs[:TOP_K]) if slug in answers), None)
                top1, top3, lenient = rank == 1, rank is not None and rank <= 3, None
            rows.append(
                {
                    "query": query,
                    "answers": sorted(answers),
                    "found": slugs[:3],
                    "partial": partial[:3],
                    "top1": top1,
                    "top3": top3,
                    "lenient": lenient,
                }
            )
        kinds[kind] = {
            "queries": len(rows),
            "top1": sum(r["top1"] for r in rows) / len(rows),
            "top3": sum(r["top3"] for r in rows) / len(rows),
            "lenient": (sum(bool(r["lenient"]) for r in rows) / len(rows)) if kind == NO_ANSWER else None,
            "rows": rows,
        }
    return kinds


# ---------------------------------------------------------------------------------------
# The report.
# ---------------------------------------------------------------------------------------


def table(title: str, ours: dict, plain: dict, pages: int, unknown: dict | None = None) -> list[str]:
    lines = [
        f"### {title} ({pages} pages)",
        "",
        "| kind | queries | our search top-1 | our search top-3 | plain BM25 top-1 | plain BM25 top-3 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    answerable = [kind for kind in ours if kind != NO_ANSWER]
    for kind in ours:
        a, b = ours[kind], plain[kind]
        if kind == NO_ANSWER:
            lines.append(f"| no answer: no results | {a['queries']} | {a['top1']:.0%} | | {b['top1']:.0%} | |")
        else:
            lines.append(
                f"| {kind.replace('_', ' ')} | {a['queries']} | {a['top1']:.0%} | {a['top3']:.0%} "
                f"| {b['top1']:.0%} | {b['top3']:.0%} |"
            )
    total = sum(ours[k]["queries"] for k in answerable)

    def overall(result: dict, key: str) -> float:
        return sum(result[k][key] * result[k]["queries"] for k in answerable) / total

    lines.append(
        f"| every answerable kind | {total} | {overall(ours, 'top1'):.0%} | {overall(ours, 'top3'):.0%} "
        f"| {overall(plain, 'top1'):.0%} | {overall(plain, 'top3'):.0%} |"
    )
    empty = [sum(not r["found"] for k in answerable for r in result[k]["rows"]) for result in (ours, plain)]
    lines.append("")
    lines.append(
        f"Answerable queries given no results at all: our search {empty[0]}, plain BM25 {empty[1]} (of {total})."
    )
    if NO_ANSWER in ours:
        lines.append(
            f"No-answer queries given no results or a correction notice («Viser treff for …») by our search: "
            f"{ours[NO_ANSWER]['lenient']:.0%}."
        )
    offered = [r for k in answerable for r in ours[k]["rows"] if not r["found"] and r["partial"]]
    if offered or (NO_ANSWER in ours and any(r["partial"] for r in ours[NO_ANSWER]["rows"])):
        helped = sum(bool(set(r["partial"]) & set(r["answers"])) for r in offered)
        lines.append(
            f"Partial matches (offered apart, not as results, when a question finds nothing): of the {empty[0]} "
            f"answerable queries given no results, {len(offered)} were offered some, {helped} with an answering "
            "page among them; "
            + (
                f"of the {ours[NO_ANSWER]['queries']} no-answer queries, "
                f"{sum(bool(r['partial']) for r in ours[NO_ANSWER]['rows'])} were offered some."
                if NO_ANSWER in ours
                else ""
            )
        )
    if unknown:
        lines.append(
            f"Words of the Bokmål list that no page has, each alone ({unknown['words']}, drawn by "
            f"`unknown_words`): our search answered {unknown['answered']} with pages, {unknown['corrected']} "
            "of them by correcting the word into another; plain BM25 none (as they were drawn)."
        )
    return lines


def misses(title: str, name: str, result: dict) -> list[str]:
    lines = [f"#### {title}: {name} misses (not in the top 3; for no answer, any result)", ""]
    for kind, row in result.items():
        for r in row["rows"]:
            if not r["top3"]:
                wanted = ", ".join(r["answers"]) or "nothing"
                lines.append(f"- {kind}: `{r['query']}` wants {wanted}; got {', '.join(r['found']) or 'nothing'}")
    return lines


def _app_version() -> str:
    """The commit of the app measured, and whether app/ differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(BENCH.parent), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"commit {commit}" + (", with uncommitted changes in app/" if git("status", "--porcelain", "app") else "")


SETS = [
    ("Outside set: the Dapla manual (bench/quality_outside)", OUTSIDE),
    ("Second outside set: Designsystemet (bench/quality_digdir)", DIGDIR),
    ("In-house set (bench/quality)", INHOUSE),
]


def measure_sets() -> list[dict]:
    """Both systems on both sets: for each set its title, pages, and per-kind results for
    our search and plain BM25 (as `measure` gives them). What `make bench` reports."""
    logging.disable(logging.INFO)  # the app's own info logs (its access lines go to stdout: see _quiet_stdout)
    measured = []
    for title, folder in SETS:
        queries = load_queries(folder)
        baseline = PlainBM25(folder / "docs")
        words = unknown_words(baseline)
        with _quiet_stdout():
            search = ProjectSearch(folder / "docs")
            ours = measure(search, queries)
            unknown = measure_unknown(search, words)
        plain = measure(baseline, queries)
        pages = len(read_pages(folder / "docs"))
        measured.append({"title": title, "pages": pages, "ours": ours, "plain": plain, "unknown": unknown})
    return measured


def tables(measured: list[dict]) -> list[str]:
    """The per-kind tables of both sets, side by side with plain BM25, in Markdown."""
    lines = []
    for one in measured:
        lines += table(one["title"], one["ours"], one["plain"], one["pages"], one.get("unknown")) + [""]
    return lines


def run(show_misses: bool = False) -> str:
    measured = measure_sets()
    report = [
        "## Search quality, our search and plain BM25 side by side",
        "",
        "Top-1: an answering page first; top-3: within the first three. No answer: the share of "
        "queries given no results at all.",
        f"The app measured: {_app_version()}; PYTHONHASHSEED={os.environ.get('PYTHONHASHSEED', 'random')}.",
        "",
        *tables(measured),
    ]
    details = []
    for one in measured:
        details += misses(one["title"], "our search", one["ours"]) + [""]
        details += misses(one["title"], "plain BM25", one["plain"]) + [""]
    text = "\n".join(report + (details if show_misses else []))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(report + details) + "\n", encoding="utf-8")
    return text


def main() -> None:
    # Our search orders some ties by set order, which follows Python's string hashing: the
    # same query can rank a page third in one process and fourth in the next. The report
    # runs with a fixed hash seed (0 unless PYTHONHASHSEED is set), so that two runs agree.
    if "PYTHONHASHSEED" not in os.environ:
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, "-m", "bench.outside", *sys.argv[1:]])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    make = sub.add_parser("convert", help="make bench/quality_outside/docs from a fetched dapla-manual")
    make.add_argument("git_dir", type=Path, help="the repository's git directory (or a clone)")
    make.add_argument("--commit", default=SOURCE_COMMIT)
    parser.add_argument("--misses", action="store_true", help="list every query a system missed")
    args = parser.parse_args()
    if args.command == "convert":
        convert(args.git_dir, args.commit)
        return
    print(run(args.misses))


if __name__ == "__main__":
    main()
