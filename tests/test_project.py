"""The project's plan, as the structure issue set it: what the tree may and may not hold.
The layers of app/ are import-linter's contracts (pyproject.toml, `make lint`)."""

from __future__ import annotations

import ast

import pytest
from helpers import PROJECT

TESTS = PROJECT / "tests"


def imported_modules(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted(TESTS.rglob("test_*.py")), ids=lambda p: str(p.relative_to(TESTS)))
def test_no_test_module_imports_another(path):
    others = {module for module in imported_modules(path) if module.split(".")[-1].startswith("test_")}
    assert not others and "conftest" not in imported_modules(path)


@pytest.mark.parametrize("path", sorted((PROJECT / "bench").glob("*.py")), ids=lambda p: p.name)
def test_bench_imports_nothing_from_the_tests(path):
    assert not {module for module in imported_modules(path) if module.split(".")[0] in ("tests", "helpers", "conftest")}


@pytest.mark.parametrize("path", sorted((PROJECT / "app").rglob("*.py")), ids=lambda p: str(p.relative_to(PROJECT)))
def test_every_module_of_the_app_reads_in_one_sitting(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


@pytest.mark.parametrize(
    "package", sorted(p for p in (PROJECT / "app").iterdir() if (p / "__init__.py").exists()), ids=lambda p: p.name
)
def test_every_package_says_what_it_holds_and_may_import(package):
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert len(docstring.split()) >= 25 and "import" in docstring
