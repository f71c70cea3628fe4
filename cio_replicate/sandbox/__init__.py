"""A simulated Customer.io workspace (App API + Track API), written from the API reference.

    from cio_replicate.sandbox import Sandbox, Faults, APP_API_KEY, TRACK_API_KEY, SITE_ID, serve
    sb = Sandbox("tiny", seed=1)              # "tiny" | "demo" | "large"
    httpx.Client(transport=sb.transport())   # in-process; or serve(sb) for loopback HTTP

This package must not import the tool's catalog, http client, config, load or engine:
it is the independent double those are tested against.

Behaviour where the reference leaves a choice (kept consistent everywhere):
- Order: people, segment members, objects and relationships by creation (index) ascending;
  messages and activities newest first; newsletters and sender identities by id (`sort=desc`
  reverses); un-paginated lists by id (snippets by name).
- Pages: `next` is "" on the last page (never a trailing empty page); tokens are opaque base64
  and bound to their listing (foreign/garbled token -> 400). Limits: documented maxima enforced;
  UNCONFIRMED ones default 50, max 100; campaign actions: fixed pages of 10, `limit` -> 400.
- /v1/messages without start_ts/end_ts covers the last 6 months of the sandbox clock; both
  bounds are inclusive. Deliveries carry null action_id/content_id/parent_action_id when not
  applicable (the spec types them integer).
- Errors: App `{"errors":[{"detail","status":"<code>"}]}` (401 adds code invalid_credentials);
  Track 401 has an empty body. Unknown hosts raise httpx.ConnectError; the App key on the
  other region's host is 401; 429 carries Retry-After: 1.
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
