"""``cio-replicate check``: verify both sets of credentials with one cheap call each.

Exit codes: 0 both fine, 3 a key was rejected, 2 configuration error,
1 a host could not be reached. Keys are never printed.
"""

from __future__ import annotations

from typing import Any

import click

from ..config import Settings
from ..connect import open_client
from ..errors import CioReplicateError
from ..http import CioClient
from . import output
from .context import announce
from .options import load_cli_settings, settings_options


@click.command("check")
@settings_options(
    "source", "region", "app_api_url", "track_api_url", "timeout", "sandbox_scale", "sandbox_seed"
)
@click.pass_context
def check(ctx: click.Context, /, **flags: object) -> None:
    """Verify the App API key and the Track credentials (site id + tracking key).

    Calls GET /v1/workspaces (App API) and GET /api/v1/accounts/region (Track
    API), then prints the region, the workspace and the base URLs used (for the
    built-in sandbox: that it is simulated, in-process).
    """
    settings = load_cli_settings(ctx, flags)
    announce(ctx, settings)
    failures: list[CioReplicateError] = []
    output.summary(source=settings.source, region=settings.region)
    with open_client(settings) as client:
        workspaces = _check_app(client, failures)
        environment_id = _check_track(client, settings, failures)
    _echo_workspace(workspaces, environment_id, settings.region)
    if failures:
        worst = max(failures, key=lambda exc: exc.exit_code)
        for other in failures:
            if other is not worst:
                output.error(str(other), other.exit_code)
        raise worst
    output.say("check.ok", "ok: credentials verified")


def _base(client: CioClient, base_url: str) -> str:
    """The base URL requests go to, or the in-process sandbox (which has none)."""
    return client.served_by or base_url


def _check_app(client: CioClient, failures: list[CioReplicateError]) -> list[dict[str, Any]]:
    base = _base(client, client.app_endpoint.base_url)
    try:
        body = client.app("GET", "/v1/workspaces")
    except CioReplicateError as exc:
        output.say("check.app_api", f"App API:   {base}  FAILED ({type(exc).__name__})",
                   level="error", url=base, ok=False)  # fmt: skip
        failures.append(exc)
        return []
    workspaces = body.get("workspaces") if isinstance(body, dict) else None
    found = [w for w in workspaces or [] if isinstance(w, dict)]
    output.say("check.app_api", f"App API:   {base}  ok (App API key accepted)", url=base, ok=True)
    return found


def _check_track(
    client: CioClient, settings: Settings, failures: list[CioReplicateError]
) -> object:
    base = _base(client, client.track_endpoint.base_url)
    if settings.source == "customerio" and settings.track_api_key is None:
        output.say("check.track_api",
                   f"Track API: {base}  not configured (set CIO_SITE_ID and CIO_TRACK_API_KEY)",
                   url=base, ok=None)  # fmt: skip
        return None
    try:
        body = client.track("GET", "/api/v1/accounts/region")
    except CioReplicateError as exc:
        output.say("check.track_api", f"Track API: {base}  FAILED ({type(exc).__name__})",
                   level="error", url=base, ok=False)  # fmt: skip
        failures.append(exc)
        return None
    body = body if isinstance(body, dict) else {}
    output.say("check.track_api", f"Track API: {base}  ok (site id and tracking key accepted)",
               url=base, ok=True)  # fmt: skip
    region = body.get("region")
    if region and region != settings.region:
        output.say(
            "warning",
            f"warning: the Track API says this account is in region {region!r} but region is "
            f"{settings.region!r}: set region = {region!r} (CIO_REGION={region})",
            level="warning",
            err=True,
        )
    return body.get("environment_id")


def _echo_workspace(workspaces: list[dict[str, Any]], environment_id: object, region: str) -> None:
    chosen = [w for w in workspaces if environment_id is not None and w.get("id") == environment_id]
    if chosen or len(workspaces) == 1:
        workspace = (chosen or workspaces)[0]
        text = f"workspace: {workspace.get('name')} (id {workspace.get('id')}); region: {region}"
        output.say("check.workspace", text, workspace=workspace.get("name"),
                   workspace_id=workspace.get("id"), region=region)  # fmt: skip
    elif workspaces:
        names = ", ".join(f"{w.get('name')} (id {w.get('id')})" for w in workspaces)
        text = f"workspaces visible to the App API key: {names}; region: {region}"
        output.say("check.workspace", text, region=region)
    elif environment_id is not None:
        output.say("check.workspace", f"workspace: id {environment_id}; region: {region}",
                   workspace_id=environment_id, region=region)  # fmt: skip
    else:
        output.say("check.workspace", f"region: {region}", region=region)


COMMANDS: list[click.Command] = [check]
