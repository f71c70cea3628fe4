"""How an object's run ends: failed, interrupted or done, recorded in ``_cio_runs`` and
returned as its :class:`~cio_replicate.stats.ObjectStats` (a mix-in of ``ObjectRun``)."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Literal

from .. import state
from ..catalog import ObjectSpec
from ..http import LogStats
from ..load.dberrors import error_message, one_line
from ..load.replace import SwapTimeout
from ..load.table import TableAltered
from ..locks import LockLost
from ..stats import ObjectStats
from .rows import WriteMode
from .services import Services

log = logging.getLogger("cio_replicate.engine")


class ObjectEnd:
    svc: Services
    spec: ObjectSpec
    stats: ObjectStats
    run_id: str
    mode: WriteMode
    _t0: float

    def _calls(self) -> LogStats:
        raise NotImplementedError

    def _failed(self, exc: BaseException) -> ObjectStats:
        if isinstance(exc, LockLost | TableAltered | SwapTimeout):  # whole sentences
            message = one_line(str(exc))
        else:
            message = error_message(exc, self.spec.table)  # one line: no SQL, no values
        return self._end("failed", message)

    def _stopped(self) -> ObjectStats:
        """Interrupted: the committed batches stay, the next run goes on from them."""
        if self.mode == "replace":
            message = "stopped before the rebuild was complete: the next run rebuilds it"
        else:
            message = "stopped: committed batches kept, the next run goes on from them"
        return self._end("interrupted", message)

    def _end(self, status: Literal["failed", "interrupted"], message: str) -> ObjectStats:
        """Record how the object ended (the database itself may be what failed)."""
        stats = replace(self.stats, status=status, errors=int(status == "failed"), message=message)
        try:
            with self.svc.target.begin() as conn:
                stats.api_calls = self._calls().calls
                state.finish_object(conn, self.run_id, self.spec.name, stats, now=self.svc.clock())
        except Exception:
            what = "failure" if status == "failed" else "interruption"
            log.debug("could not record the %s of %s", what, self.spec.name, exc_info=True)
        return self._result(status, message)

    def _result(
        self,
        status: Literal["success", "failed", "skipped", "interrupted"],
        message: str | None,
    ) -> ObjectStats:
        calls = self._calls()
        try:
            with self.svc.engine.connect() as conn:
                watermark = state.load_state(conn, self.spec.name).watermark
        except Exception:  # the database itself may be what failed
            watermark = None
        return replace(
            self.stats,
            status=status,
            api_calls=calls.calls,
            throttled=calls.throttled,
            wait_seconds=calls.wait_seconds + calls.retry_wait_seconds,
            seconds=time.perf_counter() - self._t0,
            watermark=watermark,
            message=message,
        )
