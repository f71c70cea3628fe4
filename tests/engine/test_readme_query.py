"""The README's example query (open rate per campaign per day) runs as written on every
database, over a replicate of the sandbox, and gives the sandbox's own figures."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from .conftest import Harness
from .expected_metrics import METRICS_TABLES

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- example:open-rate -->"


def example_sql() -> str:
    """The SQL of the code block right after the marker, exactly as written."""
    text = README.read_text()
    assert text.count(MARKER) == 1, f"README needs one {MARKER}"
    found = re.match(r"\s*```sql\n(.*?)```", text[text.index(MARKER) + len(MARKER) :], re.S)
    assert found is not None, f"a ```sql block must follow {MARKER}"
    return found.group(1)


def test_the_open_rate_example_gives_the_sandboxs_figures(harness: Harness) -> None:
    h = harness
    ws = h.sandbox.workspace
    report = h.run(["Campaigns", "CampaignMetrics"])
    assert report.status == "success", [(r.name, r.message) for r in report.results]

    names = {c["id"]: c["name"] for c in ws.records("campaigns")}
    series = METRICS_TABLES["campaign_metrics"][1](ws)
    expected = [
        (r["campaign_id"], names[r["campaign_id"]], r["day"], r["delivered"], r["opened"])
        for r in sorted(series, key=lambda r: (r["campaign_id"], r["day"]))
        if r["delivered"] > 0
    ]
    assert len(expected) > 5 and any(r[4] for r in expected)  # the example has figures

    with h.target.engine.connect() as conn:
        got = [tuple(row) for row in conn.execute(sa.text(example_sql()))]
    assert [row[:5] for row in got] == expected
    for campaign_id, _name, day, delivered, opened, rate in got:
        assert isinstance(rate, float | Decimal), (campaign_id, day, rate)
        assert abs(float(rate) - opened * 100 / delivered) <= 0.05 + 1e-9, (campaign_id, day)
