"""SegmentMemberships: who is in each segment.

``GET /v1/segments/{segment_id}/membership`` answers up to 30,000 people per
call at the top level (``identifiers`` + ``next``); each membership row is a
person's identifiers stamped with the segment id. It is the regular fan-out
over the segments (one streamed listing per segment), at the catalog's page
size.
"""

from __future__ import annotations

from collections.abc import Iterator

from .context import Batch, ExtractContext, Hooks, register
from .fanout import fan_out


def segment_memberships(ctx: ExtractContext) -> Iterator[Batch]:
    return fan_out(ctx)


register("segment_memberships", Hooks(segment_memberships))
