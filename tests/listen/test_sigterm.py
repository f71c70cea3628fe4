"""SIGTERM in the middle of a load: the receiver stops within moments (exit 143), and every
event it answered 200 is in the table."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from cio_replicate.bench.listen import KEY, Sent, make_events, receivers, send, stored


def test_sigterm_mid_load_loses_nothing_answered(db_url: str, tmp_path: Path) -> None:
    bodies = make_events(20_000, [])
    with receivers(db_url, 1, logdir=str(tmp_path)) as (receiver,):
        stopped = threading.Event()
        result: list[Sent] = []
        senders = threading.Thread(
            target=lambda: result.append(
                send([receiver.port], bodies, senders=10, stop_when_refused=True, stopped=stopped)
            )
        )
        senders.start()
        while stored(db_url)[0] < 200:  # well into the load
            time.sleep(0.05)
        receiver.process.send_signal(signal.SIGTERM)
        code = receiver.process.wait(30)
        stopped.set()
        senders.join(60)
    log = Path(receiver.log).read_text()
    assert code == 143, log
    (sent,) = result
    rows, distinct = stored(db_url)
    assert 200 <= len(sent.ok) < len(bodies)  # stopped mid-load
    assert rows == distinct >= len(sent.ok)
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        ids = {r[0] for r in conn.execute(text("SELECT event_id FROM reporting_events"))}
    engine.dispose()
    assert sent.ok <= ids
    assert '"event": "listen.stopped"' in log
    assert KEY not in log and "01BENCH" not in log  # no key, no payload in the log
