"""A write request as data, built apart from being sent (and printed by dry runs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ..http import CioClient

Api = Literal["app", "track"]
Method = Literal["GET", "POST", "PUT", "DELETE"]


@dataclass(frozen=True)
class WriteRequest:
    api: Api
    method: Method
    path: str
    body: Any = None

    def describe(self) -> str:
        """One line for dry runs and logs: ``PUT track /api/v1/customers/x {...}``."""
        body = "" if self.body is None else " " + json.dumps(self.body, ensure_ascii=False)
        return f"{self.method} {self.api} {self.path}{body}"

    def as_dict(self) -> dict[str, Any]:
        return {"api": self.api, "method": self.method, "path": self.path, "body": self.body}


def send(client: CioClient, request: WriteRequest) -> Any:
    """Send through the shared client (rate limiter, retries, error mapping)."""
    return client.request(request.api, request.method, request.path, json=request.body)
