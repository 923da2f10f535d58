"""The second outside search-quality set: the Norwegian pages of Designsystemet, the design
system of the Norwegian Digitalisation Agency (Digdir), converted from the MDX sources of
digdir/designsystemet into the Markdown pages of bench/quality_digdir/docs (see its README).

    .venv/bin/python -m bench.digdir convert GIT_DIR   # remake docs/ from a git directory

The set is measured with the others by bench/outside.py.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

DIGDIR = Path(__file__).resolve().parent / "quality_digdir"
SOURCE_COMMIT = "72c08b53c43ae3b622a5f8fc0a436c75d49944dc"
PREFIX = "apps/www/app/content/"
MIN_WORDS = 40
# The tab labels the site shows for a component's pages (apps/www/app/locales/no.ts).
COMPONENT_TABS = {"overview": "Oversikt", "code": "Kode", "accessibility": "Tilgjengelighet"}
# Words of only one of the written standards: a page with more Nynorsk ones is left out.
BOKMAL_ONLY = frozenset(
    "ikke hva hvordan hvis hvor noen også jeg mye hvilke hvilken hvem bare fra være disse hos hun gjør mer "
    "brukerne brukeren hvorfor".split()
)
NYNORSK_ONLY = frozenset(
    "ikkje kva korleis dersom kvar nokon òg eg mykje kven berre frå vere desse hjå ho gjer meir brukarane "
    "brukaren kvifor eit ein nokre".split()
)
ENGLISH = frozenset("the and is are with you your this that of".split())
# Elements whose end is the end of a line of text; the others are replaced by a space.
BLOCKS = frozenset(
    "br p div li tablerow tr h2 h3 h4 dodont alert card details detailssummary detailscontent caption "
    "tablecell tableheadercell".split()
)


def slug_for(path: str) -> str:
    """A page's slug: its path under PREFIX without "/no/" and the extension, lower case,
    æ/ø/å as ae/o/a, other runs of signs as "-"."""
    slug = re.sub(r"\.mdx?$", "", path).replace("/no/", "/").lower()
    for letter, written in (("æ", "ae"), ("ø", "o"), ("å", "a"), ("é", "e"), ("ò", "o")):
        slug = slug.replace(letter, written)
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", slug)).strip("-")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    fields: dict[str, str] = {}
    found = re.match(r"^---\s*\n(.*?)\n---\s*\n?", text, re.S) if text.startswith("---") else None
    if not found:
        return fields, text
    for line in found.group(1).splitlines():
        field = re.match(r"^([A-Za-z_]+):\s*(.*)$", line)
        if field:
            value = field.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            fields[field.group(1)] = value
    return fields, text[found.end() :]


def _without_tags(text: str) -> str:
    """JSX and HTML tags removed, the text between them kept. A tag runs from "<" to its
    closing ">" outside quotes and {…} expressions, so a tag with props over many lines goes
    whole; a <style>, <script> or <svg> goes with what it holds."""
    out, at, end = [], 0, len(text)
    while at < end:
        if text[at] != "<" or at + 1 >= end or not (text[at + 1].isalpha() or text[at + 1] in "/!"):
            out.append(text[at])
            at += 1
            continue
        if text.startswith("<!--", at):
            closing = text.find("-->", at)
            at = end if closing < 0 else closing + 3
            continue
        close, depth, quote = at + 1, 0, None
        while close < end:
            sign = text[close]
            if quote:
                quote = None if sign == quote else quote
            elif sign in "'\"" and depth == 0:
                quote = sign
            elif sign == "`" and depth > 0:
                tick = text.find("`", close + 1)
                close = tick if tick > 0 else close
            elif sign == "{":
                depth += 1
            elif sign == "}":
                depth -= 1
            elif sign == ">" and depth <= 0:
                break
            close += 1
        name = re.match(r"</?([A-Za-z][\w.]*)", text[at : at + 40])
        tag = name.group(1).lower() if name else ""
        if tag in ("style", "script", "svg") and text[at + 1] != "/" and text[close - 1] != "/":
            ending = re.search(rf"</{tag}\s*>", text[close:], re.I)
            close = close + ending.end() - 1 if ending else close
        out.append("\n" if tag in BLOCKS else " ")
        at = close + 1
    return "".join(out)


def _without_modules(text: str) -> str:
    """MDX import and export statements removed (an export runs until its braces close)."""
    out, lines, at = [], text.split("\n"), 0
    while at < len(lines):
        if re.match(r"^(import|export)\s", lines[at]):
            depth = lines[at].count("{") - lines[at].count("}")
            while depth > 0 and at + 1 < len(lines):
                at += 1
                depth += lines[at].count("{") - lines[at].count("}")
        else:
            out.append(lines[at])
        at += 1
    return "\n".join(out)


def _without_expressions(text: str) -> str:
    """Top-level JSX expressions ({…}: comments, props left over) removed."""
    out, depth = [], 0
    for sign in text:
        if sign == "{":
            depth += 1
        elif sign == "}" and depth > 0:
            depth -= 1
        elif depth == 0:
            out.append(sign)
    return "".join(out)


def convert_body(body: str) -> str:
    """An MDX body as plain Markdown: code blocks, modules, tags, expressions and images
    removed, links as their text, inline code as its text, a body "# " heading as "## ", and
    headings with nothing under them left out."""
    body = re.sub(r"^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$", "", body, flags=re.S | re.M)
    body = _without_modules(body)
    codes: list[str] = []

    def kept(found: re.Match) -> str:
        codes.append(found.group(1))
        return f"\x00{len(codes) - 1}\x00"

    body = re.sub(r"`([^`\n]+)`", kept, body)
    body = _without_expressions(_without_tags(body))
    body = re.sub(r"\x00(\d+)\x00", lambda found: codes[int(found.group(1))], body)
    body = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", body)
    body = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", body)
    body = re.sub(r"\[([^\]]*)\]\[[^\]]*\]", r"\1", body)
    lines = []
    for line in html.unescape(body).splitlines():
        line = line.strip()
        line = "" if line in ("\\", "\\\\") else re.sub(r"[ \t]+", " ", re.sub(r"\s+\\$", "", line))
        lines.append("#" + line if re.match(r"^#\s", line) else line)
    lines = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip().split("\n")
    out = []
    for at, line in enumerate(lines):
        heading = re.match(r"^(#+)\s", line)
        if heading:
            following = next((other for other in lines[at + 1 :] if other.strip()), None)
            under = following and re.match(r"^(#+)\s", following)
            if following is None or (under and len(under.group(1)) <= len(heading.group(1))):
                continue
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def language(text: str) -> str:
    """ "nb", "nn" or "en", by the words of only one of them."""
    words = re.findall(r"[a-zæøåòé]+", text.lower())
    bokmal = sum(word in BOKMAL_ONLY for word in words)
    nynorsk = sum(word in NYNORSK_ONLY for word in words)
    english = sum(word in ENGLISH for word in words)
    if english > 5 and english > 2 * (bokmal + nynorsk):
        return "en"
    if nynorsk > max(1, bokmal * 0.5) or (bokmal == 0 and nynorsk > 0):
        return "nn"
    return "nb"


def convert(git_dir: Path, commit: str = SOURCE_COMMIT, out: Path = DIGDIR / "docs") -> list[str]:
    """Remake `out` from the repository's Norwegian pages at `commit`; what was left out
    and why, a line each."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True, text=True
        ).stdout

    paths = [
        p for p in git("ls-tree", "-r", "--name-only", commit, PREFIX).splitlines() if re.search(r"/no/.*\.mdx?$", p)
    ]
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.md"):
        old.unlink()
    names: dict[str, str] = {}
    kept, left_out = set(), []
    for path in sorted(paths):
        raw = git("show", f"{commit}:{path}")
        fields, body = _front_matter(raw)
        page = path[len(PREFIX) :]
        title = fields.get("title", "").strip()
        component = re.match(r"components/([^/]+)/no/(\w+)\.mdx$", page)
        if not title and component:  # a component's tab: its name, and the tab's label
            name, tab = component.groups()
            if name not in names:
                try:
                    metadata = json.loads(git("show", f"{commit}:{PREFIX}components/{name}/metadata.json"))
                except subprocess.CalledProcessError:
                    metadata = {}
                names[name] = metadata.get("no", {}).get("title", name)
            title = f"{names[name]} – {COMPONENT_TABS.get(tab, tab)}"
        text = convert_body(body)
        if not title:
            heading = re.search(r"^#{1,6}\s+(.+)$", text, re.M)
            title = heading.group(1).strip() if heading else Path(path).stem
        text = re.sub(rf"^#+\s+{re.escape(title)}\s*\n", "", text).strip()
        full = f"# {title}\n\n{text}\n"
        slug = slug_for(page)
        words = len(re.findall(r"\w+", text))
        if fields.get("published", "").lower() == "false":
            why = "not published"
        elif "altinn" in raw.lower() or "altinn" in full.lower():
            why = "names Altinn (held out)"
        elif words < MIN_WORDS:
            why = f"{words} words"
        elif language(title + "\n" + text) != "nb":
            why = "not Bokmål"
        else:
            assert slug not in kept, slug
            kept.add(slug)
            (out / f"{slug}.md").write_text(full, encoding="utf-8")
            continue
        left_out.append(f"{path}: {why}")
    return left_out


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "convert":
        left_out = convert(Path(sys.argv[2]))
        print("\n".join(left_out))
        print(f"{len(left_out)} pages left out", file=sys.stderr)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
