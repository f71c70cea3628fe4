"""Collections carry their contents (``data``), read from ``GET
/v1/collections/{id}/content`` only for collections whose ``updated_at`` moved."""

from __future__ import annotations

from .conftest import Harness
from .expected import check_tables


def _content_calls(h: Harness, mark: int) -> list[str]:
    return [r.path for r in h.sandbox.requests[mark:] if r.path.endswith("/content")]


def test_contents_are_replicated_then_refetched_only_where_updated_at_moved(
    harness: Harness,
) -> None:
    ws = harness.sandbox.workspace
    ids = [c["id"] for c in ws.records("collections")]
    mark = len(harness.sandbox.requests)
    harness.run(["Collections"])
    assert sorted(_content_calls(harness, mark)) == sorted(
        f"/v1/collections/{i}/content" for i in ids
    )
    assert check_tables(harness.url, ws, ["collections"]) == {}
    # beyond the lookback, one collection changes: only its content is read again
    harness.sandbox.clock.advance(harness.lookback + 60)
    ws.update_collection(ids[-1], data={"currency": "€", "stores": ["Zürich", "東京"]})
    mark = len(harness.sandbox.requests)
    harness.run(["Collections"])
    assert _content_calls(harness, mark) == [f"/v1/collections/{ids[-1]}/content"]
    assert check_tables(harness.url, ws, ["collections"]) == {}
