"""Search's word lists (app/search/data/) are what `make lexicons` makes from Debian's
hunspell-no and dict-freedict-eng-nor: nobody edits them by hand, and the licences beside
them stay true. The packages are installed by `make test` (system-packages) and .ci/run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.search import lexicon

DATA = Path(lexicon.__file__).parent / "data"


def test_the_shipped_word_lists_are_what_the_debian_packages_make(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "app.search.derive_lexicons", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "11757 Norwegian words" in done.stdout
    for name in ("nb-words.txt", "en-nb.tsv"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_each_word_list_keeps_its_sources_licence_beside_it():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "GNU GENERAL PUBLIC LICENSE" in (DATA / "LICENSE-GPL-2.txt").read_text(encoding="utf-8")
    assert "Attribution-ShareAlike 3.0" in (DATA / "LICENSE-CC-BY-SA-3.0.txt").read_text(encoding="utf-8")
    assert "LICENSE-GPL-2.txt" in readme and "LICENSE-CC-BY-SA-3.0.txt" in readme
