"""customers is typed (numbers, booleans, times); pushed back with ``import --from-table``,
its values reach Customer.io as the attributes they were: a ``*_at`` time as Unix seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from cio_replicate.sandbox import Sandbox
from cio_replicate.sandbox.people import attribute_text

from .conftest import Cli

TYPED = {"visits": 26, "beta": True, "last_seen_at": 1700000000, "balance": 0.1234567890123}


def test_typed_attributes_go_back_as_they_came(
    cli: Cli, sandbox: Sandbox, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CIO_TARGET_URL", db_url)
    ws = sandbox.workspace
    person = ws.create_person("typed-1", "typed@example.com", TYPED)
    assert cli("replicate", "Customers", "CustomersAttributes") == 0, cli.out + cli.err
    ws.update_person(person, dict.fromkeys(TYPED, "changed"))
    code = cli("import", "Customers", "--from-table", "customers", "--operation", "update")
    assert code in (0, 4), cli.out + cli.err  # 4: the sandbox's over-long 'notes' rejected
    back = ws.people.find_by_id("typed-1")
    assert back is not None
    assert {k: attribute_text(back.attributes[k]) for k in TYPED} == {
        k: attribute_text(v) for k, v in TYPED.items()
    }
