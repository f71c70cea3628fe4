"""``cio-replicate listen`` (the reporting-webhook receiver) and ``webhook setup``."""

from __future__ import annotations

import click

from ..config import shown_target
from ..connect import open_client
from ..errors import ConfigError
from ..load import Target
from ..logs import emit
from ..migrate import upgrade
from . import output
from .context import announce
from .options import load_cli_settings, settings_options


@click.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="TCP port."
)
@settings_options("target_url")
@click.pass_context
def listen(ctx: click.Context, /, host: str, port: int, **flags: object) -> None:
    """Receive Customer.io's reporting webhooks: POST /reporting, GET /healthz.

    Each event is verified (HMAC-SHA256 with webhook_signing_key, env
    CIO_WEBHOOK_SIGNING_KEY; at most 5 minutes old), stored in the table
    reporting_events (keyed by event_id: duplicates are ignored) and applied to the
    delivery it concerns (metrics.<metric>, first occurrence wins) before the 200.
    Several receivers may share one database. SIGTERM stops it within 5 s after the
    requests in flight (exit 143).
    """
    try:
        from ..listen.server import ListenOptions, prepare, serve
    except ImportError as exc:  # the optional extra is not installed
        raise ConfigError(
            f"listen needs the 'listen' extra ({exc.name} is missing): "
            "pip install 'cio-replicate[listen]'",
            key="listen",
        ) from None
    settings = load_cli_settings(ctx, flags, needs_source=False)
    if settings.webhook_signing_key is None:
        raise ConfigError(
            "no signing key: set CIO_WEBHOOK_SIGNING_KEY (or webhook_signing_key in the config "
            "file) to the key Customer.io shows for the reporting webhook",
            key="webhook_signing_key",
        )
    target_line = shown_target(settings.target_url, settings.target_schema)
    emit("using", f"using target: {target_line}", target=target_line)
    with Target(
        settings.target_url,
        column_names=settings.column_names,
        schema=settings.target_schema,
    ) as target:
        upgrade(target.engine)  # the tool's tables (_cio_columns holds the column map)
        store = prepare(target)
        options = ListenOptions(host=host, port=port, key=settings.webhook_signing_key.reveal())
        serve(options, store)


@click.group("webhook")
def webhook_group() -> None:
    """The workspace's reporting webhook (what feeds `listen`)."""


@webhook_group.command("setup")
@click.argument("url")
@click.option("--name", default="cio-replicate listen", show_default=True, help="Webhook name.")
@click.option(
    "--event",
    "events",
    multiple=True,
    metavar="EVENT",
    help="An event to send, e.g. email_opened (repeatable; default every delivery event; "
    "'all' adds customer_subscribed and the other customer events).",
)
@click.option(
    "--full-resolution/--unique",
    default=False,
    show_default=True,
    help="Every open and click, or only the first (enough for metrics.<metric>).",
)
@click.option("--with-content", is_flag=True, help="Sent events carry the message body.")
@settings_options("source", "region", "app_api_url")
@click.pass_context
def setup(
    ctx: click.Context,
    /,
    url: str,
    name: str,
    events: tuple[str, ...],
    full_resolution: bool,
    with_content: bool,
    **flags: object,
) -> None:
    """Create or update the reporting webhook that posts to URL (e.g.
    https://hooks.example.com/reporting) through the App API."""
    from ..listen.setup import choose_events, setup_webhook

    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"{url!r} is not an http(s) URL ending in /reporting", key="url")
    chosen = choose_events(events)
    settings = load_cli_settings(ctx, flags)
    announce(ctx, settings, target=False, writes_source=True)
    with open_client(settings) as client:
        done, hook = setup_webhook(
            client,
            url,
            name=name,
            events=chosen,
            full_resolution=full_resolution,
            with_content=with_content,
        )
    output.say(
        f"webhook.{done}",
        f"{done} reporting webhook {hook.get('id')} ({len(chosen)} events) -> {url}; "
        "copy its signing key from Customer.io into CIO_WEBHOOK_SIGNING_KEY",
        webhook_id=hook.get("id"),
        events=len(chosen),
    )


COMMANDS: list[click.Command] = [listen, webhook_group]
