"""Mutation rounds: changes the sandbox makes to itself, so a demo or a test can show
that a replica follows them.

Changes the APIs can make (an email change: Track ``PUT /api/v1/customers/{id}``; a
person deleted: Track ``DELETE /api/v1/customers/{id}``; a snippet deleted: App
``DELETE /v1/snippets/{name}``) go through the same workspace mutations the write
routes use. A campaign cannot be deleted or created through the App API (reference
§4: campaigns are read-only there), so deleting one and bringing it back is done
here, as someone in the Customer.io UI would: the campaign and its actions vanish
from every listing (``GET /v1/campaigns/{id}/actions`` answers 404), and a restored
record comes back under the same key.

    gone = delete_campaign(ws, 5)     # the campaign and its actions
    restore_campaign(ws, gone)        # the same id, the same actions
    round_ = deletes_round(ws)        # one of each change, see Round
    for done in rounds(ws): ...       # deleting and restoring rounds, alternately
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .people import Person
from .workspace import Workspace


@dataclass(frozen=True)
class DeletedCampaign:
    """What :func:`restore_campaign` needs to bring a campaign back."""

    campaign: dict[str, Any]
    actions: list[dict[str, Any]]


def change_email(ws: Workspace, person: Person, email: str) -> Person:
    """The person's email changes in place (same cio_id, as an identify by id does)."""
    with ws.lock:
        return ws.update_person(person, {"email": email})


def delete_person(ws: Workspace, person: Person) -> None:
    """The person is gone: from the search, the attributes lookup, segment memberships."""
    with ws.lock:
        ws.delete_person(person)


def delete_campaign(ws: Workspace, campaign_id: int) -> DeletedCampaign:
    """The campaign and its actions are gone from every listing."""
    with ws.lock:
        campaign = ws.content.campaigns.pop(campaign_id)
        ids = [a["id"] for a in campaign["actions"]]
        actions = [ws.content.campaign_actions.pop(i) for i in ids]
    return DeletedCampaign(campaign, actions)


def restore_campaign(ws: Workspace, gone: DeletedCampaign) -> dict[str, Any]:
    """The campaign comes back under its id, with its actions (updated now)."""
    with ws.lock:
        for action in gone.actions:
            ws.content.campaign_actions[action["id"]] = ws.touch("campaign_actions", action)
        ws.content.campaigns[gone.campaign["id"]] = ws.touch("campaigns", gone.campaign)
        return gone.campaign


def delete_snippet(ws: Workspace, name: str) -> dict[str, Any]:
    """The snippet is gone (as ``DELETE /v1/snippets/{name}``); returns it."""
    with ws.lock:
        snippet = dict(ws.misc.snippets[name])
        ws.delete_snippet(name)
    return snippet


def restore_snippet(ws: Workspace, snippet: dict[str, Any]) -> dict[str, Any]:
    """The snippet is created again under its name (as ``PUT /v1/snippets``)."""
    with ws.lock:
        return ws.put_snippet(snippet["name"], snippet["value"])


@dataclass
class Round:
    """One round of each change a replica must follow (ids of what it touched)."""

    email_changed: str = ""
    """cio_id of the person whose email changed."""
    person_deleted: str = ""
    """cio_id of the person deleted."""
    campaign_deleted: int = 0
    snippet_deleted: str = ""
    restored: list[str] = field(default_factory=list)
    """What an earlier round deleted and this one brought back."""
    gone: dict[str, DeletedCampaign | dict[str, Any]] = field(default_factory=dict)
    """What this round deleted that a later round can bring back."""


def deletes_round(ws: Workspace, earlier: Round | None = None) -> Round:
    """An email changed and a person deleted; then either a campaign (the one with the
    fewest actions) and a snippet deleted, or, given the ``earlier`` round that deleted
    them, both brought back (a deleted person cannot come back under its cio_id)."""
    done = Round()
    people = [p for p in ws.iter_people() if p is not None]
    if len(people) >= 2:
        changed = change_email(ws, people[0], f"changed.{ws.now()}@example.com")
        done.email_changed = changed.cio_id
        delete_person(ws, people[-1])
        done.person_deleted = people[-1].cio_id
    if earlier is not None and earlier.gone:
        for name, gone in earlier.gone.items():
            if isinstance(gone, DeletedCampaign):
                restore_campaign(ws, gone)
            else:
                restore_snippet(ws, gone)
            done.restored.append(name)
        return done
    campaigns = sorted(ws.records("campaigns"), key=lambda c: (len(c["actions"]), c["id"]))
    if campaigns:
        gone = delete_campaign(ws, campaigns[0]["id"])
        done.campaign_deleted = int(gone.campaign["id"])
        done.gone[f"campaign {done.campaign_deleted}"] = gone
    snippets = sorted(ws.misc.snippets)
    if snippets:
        done.snippet_deleted = snippets[0]
        done.gone[f"snippet {snippets[0]}"] = delete_snippet(ws, snippets[0])
    return done


def rounds(ws: Workspace) -> Iterator[Round]:
    """Rounds one after the other: the odd ones delete, the even ones bring back (each
    also changes an email and deletes a person): ``sandbox serve --mutate-every``."""
    earlier: Round | None = None
    while True:
        done = deletes_round(ws, earlier)
        yield done
        earlier = done if done.gone else None
