"""`cio-replicate sandbox serve`: run the simulated Customer.io workspace on loopback."""

from __future__ import annotations

import time

import click

from ..sandbox import APP_API_KEY, SITE_ID, TRACK_API_KEY, Faults, Sandbox, SandboxClock
from ..sandbox.faults import ENVELOPE_FAULTS
from ..sandbox.rounds import rounds
from ..sandbox.scales import SCALES
from ..sandbox.server import serve
from ..sandbox.webhooks import WebhookSender
from . import output


@click.group("sandbox")
def sandbox_group() -> None:
    """The built-in simulated Customer.io workspace (what demo, tests and benchmarks use)."""


@sandbox_group.command("serve")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Loopback port (0 picks a free one).",
)
@click.option(
    "--host",
    type=click.Choice(["127.0.0.1", "localhost", "::1"]),
    default="127.0.0.1",
    show_default=True,
    help="Loopback address to listen on.",
)
@click.option(
    "--scale",
    type=click.Choice(sorted(SCALES)),
    default="demo",
    show_default=True,
    help="Size of the generated workspace.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Data seed.")
@click.option("--region", type=click.Choice(["us", "eu"]), default="us", show_default=True)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Enforce this many App API requests per second (429 + Retry-After).",
)
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, help="Seconds per request.")
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests answered 500/502/503.",
)
@click.option(
    "--truncate-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of successful bodies cut in half.",
)
@click.option(
    "--burst-429-every",
    type=click.IntRange(min=0),
    default=0,
    help="Every Nth request starts a short burst of 429s (0 = never).",
)
@click.option("--fault-seed", type=int, default=0, help="Seed of the fault dice.")
@click.option(
    "--bad-envelope",
    "bad_envelopes",
    multiple=True,
    metavar="PATH=MODE",
    callback=lambda ctx, param, values: _bad_envelopes(values),
    help=f"Break the list envelope of PATH's answers; MODE: {', '.join(ENVELOPE_FAULTS)}.",
)
@click.option(
    "--endless-cursor",
    "endless_paths",
    multiple=True,
    metavar="PATH",
    help="PATH's pages carry an ever-new cursor while repeating the first page.",
)
@click.option(
    "--slow-body",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Seconds between the bytes of each successful body (a trickle).",
)
@click.option(
    "--slow-body-path", "slow_paths", multiple=True, metavar="PATH", help="Trickle only these."
)
@click.option(
    "--webhook",
    "webhook_url",
    metavar="URL",
    help="Post signed reporting-webhook events (a delivery's next step) to URL, e.g. "
    "http://127.0.0.1:8080/reporting (needs --webhook-key).",
)
@click.option("--webhook-key", metavar="KEY", help="The signing key of --webhook's events.")
@click.option(
    "--webhook-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Events per second sent to --webhook.",
)
@click.option(
    "--mutate-every",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="SECONDS",
    help="Every SECONDS, a mutation round: an email changed, a person deleted, and a campaign "
    "and a snippet deleted (or, the next round, brought back). 0 = never.",
)
def serve_cmd(
    port: int,
    host: str,
    scale: str,
    seed: int,
    region: str,
    rate_limit: float | None,
    latency: float,
    error_rate: float,
    truncate_rate: float,
    burst_429_every: int,
    fault_seed: int,
    bad_envelopes: dict[str, str],
    endless_paths: tuple[str, ...],
    slow_body: float,
    slow_paths: tuple[str, ...],
    webhook_url: str | None,
    webhook_key: str | None,
    webhook_rate: float,
    mutate_every: float,
) -> None:
    """Serve both APIs on one loopback base URL until interrupted."""
    if bool(webhook_url) != bool(webhook_key):
        raise click.UsageError("--webhook and --webhook-key go together")
    faults = Faults(
        latency=latency,
        error_rate=error_rate,
        truncate_rate=truncate_rate,
        burst_429_every=burst_429_every,
        seed=fault_seed,
        bad_envelope=bad_envelopes,
        endless_cursor=endless_paths,
        slow_body=slow_body,
        slow_body_paths=slow_paths,
    )
    sb = Sandbox(
        scale,
        seed=seed,
        region="eu" if region == "eu" else "us",
        faults=faults,
        rate_limit=rate_limit,
        clock=SandboxClock(live=True),
    )
    server = serve(sb, host=host, port=port)
    output.data_output()  # the banner: what to paste
    click.echo(f"sandbox ({scale}, seed {seed}, region {region}) listening on {server.base_url}")
    click.echo(f"  App API:   {server.base_url}/v1/...    Authorization: Bearer {APP_API_KEY}")
    click.echo(f"  Track API: {server.base_url}/api/v1/... Basic auth {SITE_ID}:{TRACK_API_KEY}")
    click.echo(f"  export CIO_APP_API_URL={server.base_url} CIO_TRACK_API_URL={server.base_url}")
    click.echo(
        f"  export CIO_APP_API_KEY={APP_API_KEY} CIO_TRACK_API_KEY={TRACK_API_KEY} "
        f"CIO_SITE_ID={SITE_ID}"
    )
    sender = WebhookSender(sb, webhook_url, webhook_key) if webhook_url and webhook_key else None
    if sender is not None:
        sender.start(webhook_rate)
        click.echo(f"  sending signed reporting events to {webhook_url} ({webhook_rate:g}/s)")
    output.say("sandbox.ready", "press Ctrl-C to stop", err=True, url=server.base_url)
    try:
        changes = rounds(sb.workspace)
        while True:
            time.sleep(mutate_every or 3600)
            if mutate_every:
                done = next(changes)
                text = (
                    f"mutation round: email changed ({done.email_changed}), person deleted "
                    f"({done.person_deleted}), "
                    + (
                        f"restored {', '.join(done.restored)}"
                        if done.restored
                        else f"deleted campaign {done.campaign_deleted} and snippet "
                        f"{done.snippet_deleted!r}"
                    )
                )
                output.say("sandbox.round", text, err=True)
    except KeyboardInterrupt:
        pass
    finally:
        if sender is not None:
            sender.stop()
        server.shutdown()
        output.say("sandbox.stopped", "sandbox stopped", err=True)


def _bad_envelopes(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        path, _, mode = value.partition("=")
        if not path.startswith("/") or mode not in ENVELOPE_FAULTS:
            raise click.BadParameter(
                f"{value!r}: use PATH=MODE, e.g. /v1/reporting_webhooks=null "
                f"(MODE: {', '.join(ENVELOPE_FAULTS)})",
                param_hint="--bad-envelope",
            )
        out[path] = mode
    return out


COMMANDS: list[click.Command] = [sandbox_group]
