"""DML for Customers, through the Track API.

INSERT identifies a new person by ``id`` (PersonId) or ``email``; UPDATE and DELETE
address the person as ``cio_<cio_id>``. Ids and emails are kept unique, and the
Track API's silent traps are caught *before* the write, because the API answers
200 either way (an identify whose identifiers belong to two people changes nothing;
an update of an unknown cio_id is dropped; a delete of nobody succeeds):

- one lookup per row, ``POST /v1/customers`` with an ``or`` filter over the row's
  cio_id / id / email (emails compare case-insensitively), tells who holds them;
- identifiers given to people earlier in the same import are remembered, so a file
  that repeats an id or email is caught even before the API has indexed the first write.

So a row costs two calls (lookup + write). No read-back follows the write: Track
writes are processed asynchronously, so an immediate read could not confirm them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..http import CioClient, segment
from . import plan as p
from .checks import InvalidValue
from .dml import Mode
from .fields import coerce, is_empty
from .wire import WriteRequest

MAX_ATTRIBUTES = 300
MAX_NAME_BYTES = 150
MAX_VALUE_BYTES = 1000
# Columns of an exported/replicated Customers row that are not attributes to send
# (``_cio_*`` columns, e.g. _cio_subscription_preferences_computed, are skipped too).
READONLY = frozenset({"devices"})


class PeopleWriter:
    name = "Customers"

    def __init__(self, client: CioClient) -> None:
        self._client = client
        # ("id"|"email", value) -> who got it in this import ("cio_id x" or "row n")
        self._claimed: dict[tuple[str, str], str] = {}
        self._row = 0

    def plan(self, mode: Mode, values: dict[str, Any]) -> p.Plan:
        self._row += 1
        try:
            cio_id, pid, email, attrs = self._split(values)
        except InvalidValue as exc:
            return p.reject(str(exc))
        if mode == "delete":
            return self._delete(cio_id)
        if mode in ("update", "upsert") and cio_id is not None:
            return self._update(cio_id, pid, email, attrs)
        if mode == "update":
            return p.reject("UPDATE of Customers needs cio_id to identify the person", "UPDATE")
        if pid is None and email is None:
            return p.reject("INSERT into Customers needs id (PersonId) or email", "INSERT")
        people = self._lookup(None, pid, email)
        if mode == "upsert" and len({q["cio_id"] for q in people}) == 1:
            return self._update(people[0]["cio_id"], pid, email, attrs, people)
        return self._insert(pid, email, attrs, people)

    # --- input ------------------------------------------------------------------

    def _split(
        self, values: dict[str, Any]
    ) -> tuple[str | None, str | None, str | None, dict[str, Any]]:
        attrs = {
            name: value
            for name, value in values.items()
            if name not in READONLY and not name.startswith("_cio_") and not is_empty(value)
        }
        ident = {k: attrs.pop(k, None) for k in ("cio_id", "id", "email")}
        out = [None if is_empty(v) else str(v).strip() for v in ident.values()]
        cio_id, pid, email = (v or None for v in out)
        if cio_id is not None:
            cio_id = cio_id.removeprefix("cio_")
        for name, value in list(attrs.items()):
            attrs[name] = self._attribute(name, value)
        if len(attrs) > MAX_ATTRIBUTES:
            raise InvalidValue(f"{len(attrs)} attributes; at most {MAX_ATTRIBUTES} per person")
        return cio_id, pid, email, attrs

    def _attribute(self, name: str, value: Any) -> Any:
        if len(name.encode()) > MAX_NAME_BYTES:
            raise InvalidValue(f"attribute name {name[:40]!r}... is over {MAX_NAME_BYTES} bytes")
        if name == "created_at" or (name.endswith("_at") and isinstance(value, datetime)):
            return _unix(value)  # a *_at time from a typed table goes back as Unix seconds
        if name == "unsubscribed":
            return coerce(name, "bool", value)
        if name == "cio_subscription_preferences":
            return coerce(name, "json_object", value)
        value = coerce(name, "any", value)
        size = len(str(value).encode())
        if size > MAX_VALUE_BYTES:
            raise InvalidValue(
                f"attribute {name!r} is {size} bytes; the Track API takes at most "
                f"{MAX_VALUE_BYTES} bytes per value"
            )
        return value

    # --- lookups ------------------------------------------------------------------

    def _lookup(
        self, cio_id: str | None, pid: str | None, email: str | None
    ) -> list[dict[str, Any]]:
        """Everyone holding one of the identifiers (one POST /v1/customers)."""
        tests = [
            {"attribute": {"field": field, "operator": "eq", "value": value}}
            for field, value in (("cio_id", cio_id), ("id", pid), ("email", email))
            if value is not None
        ]
        body = self._client.app(
            "POST",
            "/v1/customers",
            params={"limit": 100},
            json={"filter": {"or": tests}},
            idempotent=True,  # a search: safe to resend
        )
        found = body.get("identifiers") if isinstance(body, dict) else None
        return [q for q in found or [] if isinstance(q, dict) and q.get("cio_id")]

    def _claims(self, target: str, pid: str | None, email: str | None) -> str | None:
        for kind, value in (("id", pid), ("email", email)):
            if value is None:
                continue
            owner = self._claimed.get((kind, value.lower() if kind == "email" else value))
            if owner is not None and owner != target:
                return f"{kind} {value!r} was already given to {owner} earlier in this import"
        return None

    def _claim(self, target: str, pid: str | None, email: str | None) -> None:
        if pid is not None:
            self._claimed[("id", pid)] = target
        if email is not None:
            self._claimed[("email", email.lower())] = target

    # --- operations -----------------------------------------------------------------

    def _insert(
        self,
        pid: str | None,
        email: str | None,
        attrs: dict[str, Any],
        people: list[dict[str, Any]],
    ) -> p.Plan:
        target = f"row {self._row}"
        if people:
            same = len(people) == 1 and _matches(people[0], pid, email)
            if same:
                return p.skip(
                    f"already exists: person cio_id {people[0]['cio_id']} (not inserted again)",
                    "INSERT",
                )
            return p.reject(_conflict(people, pid, email, None), "INSERT")
        clash = self._claims(target, pid, email)
        if clash:
            return p.reject(clash, "INSERT")
        self._claim(target, pid, email)
        body = dict(attrs)
        if pid is not None and email is not None:
            body["email"] = email
        path = f"/api/v1/customers/{segment(pid if pid is not None else email)}"
        return p.send("INSERT", WriteRequest("track", "PUT", path, body))

    def _update(
        self,
        cio_id: str,
        pid: str | None,
        email: str | None,
        attrs: dict[str, Any],
        people: list[dict[str, Any]] | None = None,
    ) -> p.Plan:
        if people is None:
            people = self._lookup(cio_id, pid, email)
        target = next((q for q in people if q["cio_id"] == cio_id), None)
        if target is None:
            return p.reject(
                f"no person with cio_id {cio_id} (the API would drop this update silently)",
                "UPDATE",
            )
        # Identifiers the person already holds are no change: neither checked nor sent
        # (an email shared with someone else would make the identify ambiguous).
        if pid is not None and target.get("id") == pid:
            pid = None
        if email is not None and (target.get("email") or "").lower() == email.lower():
            email = None
        others = [q for q in people if q["cio_id"] != cio_id and _holds(q, pid, email)]
        if others:
            return p.reject(_conflict(others, pid, email, cio_id), "UPDATE")
        clash = self._claims(f"cio_id {cio_id}", pid, email)
        if clash:
            return p.reject(clash, "UPDATE")
        self._claim(f"cio_id {cio_id}", pid, email)
        body = dict(attrs)
        for name, value in (("id", pid), ("email", email)):
            if value is not None:
                body[name] = value
        if not body:
            return p.reject("UPDATE of Customers has nothing to change", "UPDATE")
        path = f"/api/v1/customers/{segment('cio_' + cio_id)}"
        return p.send("UPDATE", WriteRequest("track", "PUT", path, body), cio_id=cio_id)

    def _delete(self, cio_id: str | None) -> p.Plan:
        if cio_id is None:
            return p.reject("DELETE of Customers needs cio_id to identify the person", "DELETE")
        if not any(q["cio_id"] == cio_id for q in self._lookup(cio_id, None, None)):
            return p.skip(f"already absent: no person with cio_id {cio_id}", "DELETE")
        path = f"/api/v1/customers/{segment('cio_' + cio_id)}"
        return p.send("DELETE", WriteRequest("track", "DELETE", path), cio_id=cio_id)

    def applied(self, plan: p.Plan, response: Any) -> str:
        memo = dict(plan.memo)
        return f"cio_id {memo['cio_id']}" if "cio_id" in memo else ""

    def missing(self, plan: p.Plan) -> p.Plan:
        if plan.operation == "DELETE":
            return p.skip("already absent", "DELETE")
        return p.reject("person not found", plan.operation)


def _holds(person: dict[str, Any], pid: str | None, email: str | None) -> bool:
    """True if ``person`` holds the id or the email (emails compare case-insensitively)."""
    held = (person.get("email") or "").lower()
    return (pid is not None and person.get("id") == pid) or (
        email is not None and held == email.lower()
    )


def _matches(person: dict[str, Any], pid: str | None, email: str | None) -> bool:
    if pid is not None and person.get("id") != pid:
        return False
    held = person.get("email")
    return email is None or (held is not None and held.lower() == email.lower())


def _conflict(
    people: list[dict[str, Any]], pid: str | None, email: str | None, cio_id: str | None
) -> str:
    """Who already holds the row's id or email."""
    parts = []
    for person in people:
        holds = []
        if pid is not None and person.get("id") == pid:
            holds.append(f"id {pid!r}")
        if email is not None and (person.get("email") or "").lower() == email.lower():
            holds.append(f"email {email!r}")
        what = " and ".join(holds) or "an identifier"
        parts.append(f"{what} already held by person cio_id {person['cio_id']}")
    target = f"person cio_id {cio_id}" if cio_id else "a new person"
    return f"{'; '.join(parts)}: ids and emails must be unique, refused for {target}"


def _unix(value: Any) -> int:
    if isinstance(value, datetime):  # from a table: naive values are UTC
        return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())
    text = str(value).strip()
    try:
        return int(float(text)) if text.replace(".", "", 1).lstrip("-").isdigit() else _iso(text)
    except ValueError:
        raise InvalidValue(f"created_at must be unix seconds or ISO 8601, got {text!r}") from None


def _iso(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(text)
    return int(moment.timestamp())
