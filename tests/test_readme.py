"""Docs that tests enforce: the README's object table comes from the catalog,
and every command has help and is documented."""

from __future__ import annotations

from pathlib import Path

import click

from cio_replicate.catalog.render import catalog_markdown
from cio_replicate.cli import cli, main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path + " "))
    return found


def test_readme_object_table_is_generated_from_the_catalog() -> None:
    begin, end = "<!-- catalog:begin -->\n", "<!-- catalog:end -->"
    table = README[README.index(begin) + len(begin) : README.index(end)]
    assert table == catalog_markdown().rstrip("\n") + "\n", (
        "README object table is stale: regenerate it from catalog_markdown()"
    )


def test_readme_dml_table_is_the_catalogs() -> None:
    """Each row of the README's DML table lists the objects with exactly those operations."""
    from cio_replicate.catalog import CATALOG

    start = README.index("| Operations | Objects |")
    rows = README[start:].split("\n\n", 1)[0].splitlines()[2:]
    documented: dict[str, frozenset[str]] = {}
    for row in rows:
        operations, objects = (cell.strip() for cell in row.strip("|").split("|"))
        for name in objects.split(", "):
            assert name not in documented, f"{name} is in two rows of the README's DML table"
            documented[name] = frozenset(operations.split(", "))
    assert documented == {spec.name: spec.dml for spec in CATALOG if spec.dml}


def test_every_command_has_help_and_is_in_the_readme(capsys: object) -> None:
    commands = _commands(cli)
    assert len(commands) >= 10
    for path, command in commands:
        assert command.help or command.short_help, f"{path} has no help text"
        assert main([*path.split(), "--help"]) == 0, path
        if not isinstance(command, click.Group):
            assert f"cio-replicate {path}" in README, f"`cio-replicate {path}` is not documented"


def test_readme_names_every_environment_variable_of_the_settings() -> None:
    from dataclasses import fields

    from cio_replicate.config import Settings

    for field in fields(Settings):
        if field.name in ("origins",):
            continue
        assert f"CIO_{field.name.upper()}" in README or field.name == "allow_unsafe_rate_limit", (
            field.name
        )
