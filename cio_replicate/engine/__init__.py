"""The replication engine: for each selected object, floor -> pages -> rows -> load -> advance.

    report = replicate(Services(client=..., requests=client.log, target=Target(url),
                                clock=..., progress=Progress()), RunOptions(objects=("Campaigns",)))
    report = replicate_with_settings(settings, RunOptions())     # what the CLI runs

Modules: run (a run: migrate, select, objects, run record), objects (one
object: lock, state, batches, transactions), locking (taking an object's lock),
keys (keys already loaded), report (progress, summary table, JSON line), crash
(kill points for tests).
"""

from .crash import CrashPoints
from .objects import ObjectRun
from .report import ObjectStats, Progress, RunReport, summary_table
from .run import RunOptions, replicate, replicate_with_settings
from .services import Services

__all__ = [
    "CrashPoints",
    "ObjectRun",
    "ObjectStats",
    "Progress",
    "RunOptions",
    "RunReport",
    "Services",
    "replicate",
    "replicate_with_settings",
    "summary_table",
]
