"""The import contract (.importlinter) that `make lint` checks: the tree keeps it, and an upward import breaks it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--no-logo", "--no-cache"], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package and its contract, to break on purpose."""
    shutil.copytree(ROOT / "dashboard", tmp_path / "dashboard", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def add_function(tree: Path, module: str, body: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n\ndef _added_by_the_test() -> None:\n    {body}\n")


def test_the_package_keeps_its_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_inside_a_function_breaks_the_layers(tree: Path) -> None:
    add_function(tree, "dashboard.store.events", "from dashboard.web import rows  # noqa: F401")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "Each layer imports only the layers below it BROKEN" in result.stdout
    assert "dashboard.store.events -> dashboard.web.rows" in result.stdout


def test_boto3_outside_the_store_breaks_the_contract(tree: Path) -> None:
    add_function(tree, "dashboard.questions.listing", "import boto3  # noqa: F401")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "Only dashboard.store imports boto3 and botocore BROKEN" in result.stdout


def test_a_circle_between_two_modules_of_one_package_breaks_the_contract(tree: Path) -> None:
    # records is imported by ranges; ranges importing it back closes a circle inside the store.
    add_function(tree, "dashboard.store.records", "from dashboard.store import ranges  # noqa: F401")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "No import circles between sibling modules or packages, at any depth BROKEN" in result.stdout


def test_no_module_is_over_300_lines() -> None:
    long = {str(path.relative_to(ROOT)): count for path in (ROOT / "dashboard").rglob("*.py")
            if (count := len(path.read_text().splitlines())) > 300}
    assert long == {}
