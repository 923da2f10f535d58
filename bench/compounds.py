"""Compound words two ways: our decompounding (parts indexed at index time, plus a query
word matching the compounds it ends) against FTS5's trigram tokenizer (any substring).

Usage: python -m bench.compounds [--prose N]

For each, the memory its index takes (SQLite pages of the in-memory database) and how the
quality benchmark's compound-part queries fare (top-1, top-3), on bench/quality/docs; with
--prose N, memory also on N pages of recombined help prose.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
import tempfile
from pathlib import Path
from unittest import mock

from bench.quality import QUALITY, load_queries


def _database_bytes(db: sqlite3.Connection) -> int:
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    (size,) = db.execute("PRAGMA page_size").fetchone()
    return pages * size


def our_index(docs: Path, compounds: bool = True):
    """Our index of `docs`; without `compounds`, no part is indexed."""
    from app.content.store import DocumentStore
    from app.search import index as search

    store = DocumentStore(docs)
    store.load()
    if compounds:
        index = search.SearchIndex(store)
        index.update()
    else:
        with mock.patch.object(search, "compound_parts", lambda word, known, **_: frozenset()):
            index = search.SearchIndex(store)
            index.update()
    reversed_bytes = sum(sys.getsizeof(term) for term in index._reversed) + sys.getsizeof(index._reversed)
    return index, _database_bytes(index._db), reversed_bytes


def trigram_index(docs: Path) -> tuple[sqlite3.Connection, dict[int, str], int]:
    """An FTS5 trigram index of the same prose: title, headings and body of each page."""
    from app.content.page import parse_document
    from app.content.sections import sections

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE tri USING fts5(title, headings, body, tokenize = 'trigram')")
    slugs = {}
    for row, path in enumerate(sorted(docs.glob("*.md")), start=1):
        page = parse_document(path.stem, path.read_text(encoding="utf-8"))
        parts = sections(page.body)
        db.execute(
            "INSERT INTO tri (rowid, title, headings, body) VALUES (?, ?, ?, ?)",
            (row, page.title, " ".join(s.heading for s in parts), "\n".join(s.text for s in parts)),
        )
        slugs[row] = path.stem
    db.commit()
    return db, slugs, _database_bytes(db)


def trigram_search(db: sqlite3.Connection, slugs: dict[int, str], query: str) -> list[str]:
    """Pages with every word of 3 letters or more as a substring, by BM25 (title first)."""
    words = [w for w in query.lower().split() if len(w) >= 3]
    if not words:
        return []
    expression = " AND ".join(f'"{w}"' for w in words)
    rows = db.execute(
        "SELECT rowid FROM tri WHERE tri MATCH ? ORDER BY bm25(tri, 10, 4, 1) LIMIT 10", (expression,)
    ).fetchall()
    return [slugs[row] for (row,) in rows]


def quality(search_slugs) -> tuple[float, float]:
    queries = load_queries()["compound_part"]
    ranks = []
    for query, answers in queries:
        found = search_slugs(query)
        ranks.append(next((i + 1 for i, slug in enumerate(found) if slug in answers), None))
    return (sum(r == 1 for r in ranks) / len(ranks), sum(r is not None and r <= 3 for r in ranks) / len(ranks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prose", type=int, default=0, help="also measure memory on this many pages of prose")
    args = parser.parse_args()
    from app.search.engine import Search
    from app.search.synonyms import SynonymFile

    docs = QUALITY / "docs"
    rows = []
    for label, compounds in (("no compound handling", False), ("our decompounding", True)):
        index, size, reversed_bytes = our_index(docs, compounds)
        search = Search({"nb": index}, SynonymFile(docs))
        # Without compound handling, a query word does not match the compounds it ends either.
        ending = (
            contextlib.nullcontext()
            if compounds
            else mock.patch("app.search.index.SearchIndex._ending_with", lambda self, stem, limit=20: [])
        )
        with ending:
            top1, top3 = quality(lambda q, s=search: [h.page.slug for h in s.find(q, "nb").hits])
        rows.append((label, size + (reversed_bytes if compounds else 0), top1, top3))
    tri, slugs, tri_size = trigram_index(docs)
    top1, top3 = quality(lambda q: trigram_search(tri, slugs, q))
    base = rows[0][1]
    rows.append(("FTS5 trigram (beside the word index)", base + tri_size, top1, top3))
    print("| compound handling | index bytes (101 pages) | compound parts top-1 | top-3 |")
    print("| --- | ---: | ---: | ---: |")
    for label, size, top1, top3 in rows:
        print(f"| {label} | {size:,} | {top1:.0%} | {top3:.0%} |")
    if args.prose:
        from bench.corpus import write_prose_corpus

        with tempfile.TemporaryDirectory() as tmp:
            prose = write_prose_corpus(Path(tmp) / "docs", args.prose, docs)
            _, plain, _ = our_index(prose, compounds=False)
            _, ours, reversed_bytes = our_index(prose)
            _, _, trigram = trigram_index(prose)
            print(
                f"\nAt {args.prose:,} pages of prose: word index {plain:,} bytes; with our parts and "
                f"reversed terms {ours + reversed_bytes:,} (+{ours + reversed_bytes - plain:,}); "
                f"a trigram index beside it {trigram:,} (+{trigram:,})."
            )


if __name__ == "__main__":
    main()
