"""The wheel must carry every subpackage, including the migrations."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _declared() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def _on_disk() -> set[str]:
    found = set()
    for init in (ROOT / "cio_replicate").rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        found.add(".".join(rel.parts))
    for init in (ROOT / "migrations").rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        found.add(".".join(("cio_replicate", *rel.parts)))
    return found


def test_every_subpackage_is_declared_for_the_wheel() -> None:
    missing = _on_disk() - _declared()
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_every_declared_package_exists() -> None:
    assert _declared() - _on_disk() == set()
