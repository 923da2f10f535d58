"""Synthetic help corpora: the real pages plus generated ones in the same format."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

WORDS = (
    "bilde ansikt modell avatar stil lys farge portrett tekst ledetekst adapter vektor trening "
    "diffusjon støy trinn scene maleri tegning fotografi identitet likhet kvalitet oppløsning "
    "bakgrunn uttrykk detalj skygge kontrast mønster hjelp innstilling konto appen resultat"
).split()


def _paragraph(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _page(rng: random.Random, number: int, total: int) -> str:
    links = [f"side-{rng.randrange(total)}" for _ in range(3)]
    chips = "\n".join(
        f'    <a href="docs.php?doc={slug}" class="chip chip-s bg-gray-light">\n'
        f'        <i class="fa fa-info color-white bg-green-dark"></i>\n'
        f'        <strong class="color-black font-400">Side {slug[5:]}</strong>\n'
        f"    </a>"
        for slug in links
    )
    return (
        f"---\ndescription: {_paragraph(rng, 14)}\ncategory: Kategori {number % 12}\n---\n"
        f"# Side {number}: {rng.choice(WORDS)} og {rng.choice(WORDS)}\n\n"
        f"{_paragraph(rng, 60)}\n\n## {rng.choice(WORDS).capitalize()}\n\n{_paragraph(rng, 80)}\n\n"
        f"- {_paragraph(rng, 8)}\n- {_paragraph(rng, 8)}\n\n## Lenker i hjelpeseksjonen\n\n"
        f'<div class="mt-3">\n{chips}\n</div>\n'
    )


def write_corpus(folder: Path, size: int, real_docs: Path) -> Path:
    """`size` pages in `folder`: the real pages, then generated `side-N` pages up to `size`."""
    folder.mkdir(parents=True)
    real = sorted(real_docs.glob("*.md"))
    for path in real:
        shutil.copy(path, folder / path.name)
    generated = max(size - len(real), 0)
    rng = random.Random(size)
    for number in range(generated):
        (folder / f"side-{number}.md").write_text(_page(rng, number, generated), encoding="utf-8")
    return folder


def write_prose_corpus(folder: Path, size: int, source: Path) -> Path:
    """`size` pages of real help prose: each joins two to four sections of random pages of
    `source` (bench/quality/docs) under one of their titles. Unlike `write_corpus`, whose
    36 words are on nearly every page, a word here is on as many pages as its topic makes it."""
    from app.content.page import parse_document
    from app.content.sections import sections

    parts = []
    for path in sorted(source.glob("*.md")):
        page = parse_document(path.stem, path.read_text(encoding="utf-8"))
        parts += [(page.title, section) for section in sections(page.body)]
    folder.mkdir(parents=True)
    rng = random.Random(size)
    for number in range(size):
        chosen = rng.sample(parts, rng.randint(2, 4))
        body = "\n\n".join(f"## {section.heading or title}\n\n{section.text}" for title, section in chosen)
        (folder / f"prosa-{number}.md").write_text(
            f"---\ncategory: Kategori {number % 12}\n---\n# {chosen[0][0]} ({number})\n\n{body}\n", encoding="utf-8"
        )
    return folder
