"""Responses are freed as soon as their body is parsed (memory stays flat per page)."""

from __future__ import annotations

import gc
import weakref

import httpx

from cio_replicate.config import load_settings
from cio_replicate.connect import open_client
from cio_replicate.sandbox import APP_API_KEY, Sandbox


def test_a_parsed_response_is_not_kept_alive_by_a_reference_cycle() -> None:
    sandbox = Sandbox(scale="tiny", seed=1)
    settings = load_settings(None, env={"CIO_APP_API_KEY": APP_API_KEY})
    refs: list[weakref.ref[httpx.Response]] = []
    with open_client(settings, transport=sandbox.transport()) as client:
        # observe (not replace) each response the client receives
        client._http.event_hooks["response"].append(lambda r: refs.append(weakref.ref(r)))
        gc.collect()
        gc.disable()
        try:
            body = client.app("GET", "/v1/campaigns")
            alive = [ref() is not None for ref in refs]
        finally:
            gc.enable()
    assert body["campaigns"] and refs
    assert alive == [False] * len(refs), "a response (and its body) waits for the cyclic GC"
