"""What a person reads on the terminal after each object."""

from __future__ import annotations

import io

from cio_replicate.engine import ObjectResult, Progress


def test_one_call_is_not_called_calls() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True)
    progress.update("Segments", 6, 1, 1, 0, 0.0)
    progress.finish(
        ObjectResult(name="Segments", mode="incremental", status="success", api_calls=1)
    )
    progress.finish(
        ObjectResult(name="Campaigns", mode="incremental", status="success", api_calls=2)
    )
    text = out.getvalue()
    assert "1 call," in text and "1 call" in text.splitlines()[-2] and "1 calls" not in text
    assert text.splitlines()[-1].endswith("2 calls")
