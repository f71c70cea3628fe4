"""A simulated Customer.io workspace (App API + Track API), written from the API reference.

    from cio_replicate.sandbox import Sandbox, Faults, APP_API_KEY, TRACK_API_KEY, SITE_ID, serve
    sb = Sandbox("tiny", seed=1)              # "tiny" | "demo" | "large"
    httpx.Client(transport=sb.transport())   # in-process; or serve(sb) for loopback HTTP

This package must not import the tool's catalog, http client, config, load or engine:
it is the independent double those are tested against.
"""

from __future__ import annotations

from .constants import APP_API_KEY, ENVIRONMENT_ID, SITE_ID, TRACK_API_KEY
from .core import RecordedRequest, Sandbox
from .faults import Faults
from .people import Person
from .router import Call, HttpError, Reply, app_error, route, track_error
from .scales import SCALES, Scale
from .simclock import SandboxClock
from .workspace import Workspace

__all__ = [
    "APP_API_KEY",
    "ENVIRONMENT_ID",
    "SCALES",
    "SITE_ID",
    "TRACK_API_KEY",
    "Call",
    "Faults",
    "HttpError",
    "Person",
    "RecordedRequest",
    "Reply",
    "Sandbox",
    "SandboxClock",
    "Scale",
    "Workspace",
    "app_error",
    "route",
    "track_error",
]
