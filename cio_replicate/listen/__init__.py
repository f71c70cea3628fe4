"""The reporting-webhook receiver (``cio-replicate listen``).

``events`` (pure: signature, parse, the first-occurrence rule) < ``store`` (the
``reporting_events`` table, delivery rows, pending events for ``replicate``) <
``batcher`` (group commit) < ``app`` (Starlette) < ``server`` (uvicorn); ``setup``
creates the workspace's webhook. Only ``app`` and ``server`` need the ``listen`` extra.
"""
