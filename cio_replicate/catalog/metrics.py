"""The metrics entries of the catalog: daily delivery counts per parent, and per link.

One row per parent and day (``day``, the date ``YYYY-MM-DD`` in the answer's calendar;
``period_start``, the day's first second, as a timestamp), one integer column per metric
the API returns (``sent``, ``delivered``, ``opened``, ``human_opened`` ...; new metrics
become new columns), keyed by (parent id, day) and upserted: each run re-reads the recent days (extract/metrics.py), which keep
changing as messages are opened and clicked. Link metrics add ``link_id`` and ``href``.

Where the API offers version 2 (campaigns and campaign actions: ``start``, ``end``,
``res``, ``tz``) days are UTC days and a first run reads from the parent's creation;
elsewhere only version 1 exists (``period`` + ``steps``): days start at 00:00 EST
and at most the last 45 are available (reference section 4, events-and-metrics section 4).

Split out of objects.py, which lists them last in CATALOG (after their parents).
"""

from __future__ import annotations

from .model import ObjectSpec, frozen
from .parts import by_parent

V2_DAILY = frozen(version="2", res="daily", tz="UTC")
V1_DAILY = frozen(period="days")
_DAY = ("day",)
_TIMES = ("period_start",)


def _series(
    name: str,
    table: str,
    path: str,
    parent: str,
    params: dict[str, str],
    columns: dict[str, str],
    description: str,
    *,
    envelope: str,
    v2: bool = False,
    pushdown: tuple[str, str, str] | None = None,
    on_request: bool = False,
) -> ObjectSpec:
    """An entry; ``params``: placeholder -> parent field, ``columns``: column -> parent
    field stamped on each row (the first is the parent's id, first in the key)."""
    owner = next(iter(columns))
    link = ("link_id",) if envelope == "links" else ()
    return ObjectSpec(
        name=name,
        table=table,
        path=path,
        envelope=envelope,
        parent=parent,
        parent_params=frozen(**params),
        inherit=frozen(**columns),
        params=V2_DAILY if v2 else V1_DAILY,
        key=(owner, *link, *_DAY),
        mode="incremental",
        cursor="period_start",
        timestamps=_TIMES,
        extractor="metrics",
        pushdown=(by_parent(*pushdown),) if pushdown else (),
        on_request=on_request,
        description=description,
    )


METRICS_OBJECTS: tuple[ObjectSpec, ...] = (
    _series(
        "CampaignMetrics",
        "campaign_metrics",
        "/v1/campaigns/{campaign_id}/metrics",
        "Campaigns",
        {"campaign_id": "id"},
        {"campaign_id": "id"},
        "Daily metrics of each campaign (version 2, UTC days; one call per campaign).",
        envelope="series",
        v2=True,
        pushdown=("campaign_id", "campaign_id", "campaign"),
    ),
    _series(
        "CampaignActionMetrics",
        "campaign_action_metrics",
        "/v1/campaigns/{campaign_id}/actions/{action_id}/metrics",
        "CampaignActions",
        {"campaign_id": "campaign_id", "action_id": "id"},
        {"action_id": "id", "campaign_id": "campaign_id"},
        "Daily metrics of each campaign action (version 2, UTC days; one call per action).",
        envelope="series",
        v2=True,
        on_request=True,
    ),
    _series(
        "BroadcastMetrics",
        "broadcast_metrics",
        "/v1/broadcasts/{broadcast_id}/metrics",
        "Broadcasts",
        {"broadcast_id": "id"},
        {"broadcast_id": "id"},
        "Daily metrics of each broadcast (version 1: EST days, the last 45).",
        envelope="metric",
        pushdown=("broadcast_id", "broadcast_id", "broadcast"),
    ),
    _series(
        "BroadcastActionMetrics",
        "broadcast_action_metrics",
        "/v1/broadcasts/{broadcast_id}/actions/{action_id}/metrics",
        "BroadcastActions",
        {"broadcast_id": "broadcast_id", "action_id": "id"},
        {"action_id": "id", "broadcast_id": "broadcast_id"},
        "Daily metrics of each broadcast action (version 1: EST days; one call per action).",
        envelope="metric",
        on_request=True,
    ),
    _series(
        "NewsletterMetrics",
        "newsletter_metrics",
        "/v1/newsletters/{newsletter_id}/metrics",
        "Newsletters",
        {"newsletter_id": "id"},
        {"newsletter_id": "id"},
        "Daily metrics of each newsletter (version 1: EST days, the last 45).",
        envelope="metric",
        pushdown=("newsletter_id", "newsletter_id", "newsletter"),
    ),
    _series(
        "TransactionalMessageMetrics",
        "transactional_message_metrics",
        "/v1/transactional/{transactional_id}/metrics",
        "TransactionalMessages",
        {"transactional_id": "id"},
        {"transactional_message_id": "id"},
        "Daily metrics of each transactional message (version 1: EST days, the last 45).",
        envelope="metric",
        pushdown=("transactional_message_id", "transactional_id", "transactional message"),
    ),
    _series(
        "CampaignLinkMetrics",
        "campaign_link_metrics",
        "/v1/campaigns/{campaign_id}/metrics/links",
        "Campaigns",
        {"campaign_id": "id"},
        {"campaign_id": "id"},
        "Daily clicks per link of each campaign (version 1: EST days, the last 45).",
        envelope="links",
        pushdown=("campaign_id", "campaign_id", "campaign"),
        on_request=True,
    ),
    _series(
        "BroadcastLinkMetrics",
        "broadcast_link_metrics",
        "/v1/broadcasts/{broadcast_id}/metrics/links",
        "Broadcasts",
        {"broadcast_id": "id"},
        {"broadcast_id": "id"},
        "Daily clicks per link of each broadcast (version 1: EST days, the last 45).",
        envelope="links",
        pushdown=("broadcast_id", "broadcast_id", "broadcast"),
        on_request=True,
    ),
    _series(
        "NewsletterLinkMetrics",
        "newsletter_link_metrics",
        "/v1/newsletters/{newsletter_id}/metrics/links",
        "Newsletters",
        {"newsletter_id": "id"},
        {"newsletter_id": "id"},
        "Daily clicks per link of each newsletter (version 1: EST days, the last 45).",
        envelope="links",
        pushdown=("newsletter_id", "newsletter_id", "newsletter"),
        on_request=True,
    ),
    _series(
        "TransactionalLinkMetrics",
        "transactional_link_metrics",
        "/v1/transactional/{transactional_id}/metrics/links",
        "TransactionalMessages",
        {"transactional_id": "id"},
        {"transactional_message_id": "id"},
        "Daily clicks per link of each transactional message (version 1: EST days).",
        envelope="links",
        pushdown=("transactional_message_id", "transactional_id", "transactional message"),
        on_request=True,
    ),
)
