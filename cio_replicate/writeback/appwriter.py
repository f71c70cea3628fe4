"""DML for App API objects (catalog entries whose ``write.writer`` is ``app``).

Objects with a list endpoint are indexed once per import (one GET): an INSERT whose
natural key (name) already exists is reported and skipped, an UPDATE of an unknown
key is rejected without a call, a DELETE of an absent key is skipped. So importing
the same file twice, or rerunning an interrupted import, creates no duplicates.
"""

from __future__ import annotations

from typing import Any

from ..http import CioClient, render_path
from . import plan as p
from .checks import InvalidValue
from .dml import Mode, Operation, Writable
from .fields import coerce, is_empty
from .wire import WriteRequest

PENDING = "(inserted earlier in this import)"


class AppWriter:
    def __init__(self, spec: Writable, client: CioClient) -> None:
        self.spec = spec
        self.name = spec.name
        self._client = client
        self._records: dict[str, dict[str, Any]] | None = None
        self._by_natural: dict[str, str] = {}

    # --- the existence index --------------------------------------------------

    def _index(self) -> dict[str, dict[str, Any]] | None:
        if self.spec.list_envelope is None:
            return None
        if self._records is None:
            body = self._client.app("GET", self.spec.listing_path)
            items = body.get(self.spec.list_envelope) if isinstance(body, dict) else None
            self._records = {}
            for record in items or []:
                if isinstance(record, dict):
                    self._remember(record)
        return self._records

    def _remember(self, record: dict[str, Any]) -> None:
        assert self._records is not None
        key = _key_text(record.get(self.spec.key[-1]))
        self._records[key] = record
        natural = self.spec.natural_key
        if natural and isinstance(record.get(natural), str):
            self._by_natural.setdefault(record[natural], key)

    # --- planning ---------------------------------------------------------------

    def plan(self, mode: Mode, values: dict[str, Any]) -> p.Plan:
        try:
            keys, fields = self._typed(values)
        except InvalidValue as exc:
            return p.reject(str(exc))
        if mode == "upsert":
            mode = self._upsert_mode(keys, fields)
        if mode == "insert":
            return self._insert(keys, fields)
        if mode == "update":
            return self._update(keys, fields)
        return self._delete(keys)

    def _typed(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        keys: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for name, value in values.items():
            if is_empty(value):
                continue
            if name in self.spec.key:
                keys[name] = coerce(name, "text" if name == "name" else "int", value)
            elif name in self.spec.fields:
                kind = self.spec.fields[name]
                fields[name] = coerce(name, kind, value, self.spec.choices.get(name, ()))
        return keys, fields

    def _upsert_mode(self, keys: dict[str, Any], fields: dict[str, Any]) -> Mode:
        """An existing key, else an existing natural key, means UPDATE; else INSERT."""
        index = self._index() or {}
        key_field = self.spec.key[-1]
        if _key_text(keys.get(key_field)) in index:
            return "update"
        natural = self.spec.natural_key
        found = self._by_natural.get(fields.get(natural, "")) if natural else None
        if found is not None and found in index:
            keys[key_field] = index[found][key_field]
            return "update"
        keys.pop(key_field, None)  # an unknown id is another workspace's: insert anew
        return "insert"

    def _insert(self, keys: dict[str, Any], fields: dict[str, Any]) -> p.Plan:
        missing = [f for f in self.spec.write.insert_required if f not in fields]
        if missing:
            return p.reject(f"INSERT into {self.name} needs {', '.join(missing)}", "INSERT")
        error = self._check("INSERT", fields)
        if error:
            return p.reject(error, "INSERT")
        index = self._index() or {}
        given = keys.get(self.spec.key[-1])
        if given is not None and _key_text(given) in index:
            return p.skip(f"already exists: {self.name} id {given} (not inserted again)", "INSERT")
        natural = self.spec.natural_key
        if natural and fields[natural] in self._by_natural:
            existing = self._by_natural[fields[natural]]
            where = "an earlier row inserts it" if existing == PENDING else f"it is id {existing}"
            return p.skip(
                f"already exists: {self.name} {natural} {fields[natural]!r} ({where}; "
                "not inserted again)",
                "INSERT",
            )
        assert self.spec.create_path is not None
        request = WriteRequest("app", "POST", self.spec.create_path, self._body(fields))
        return p.send("INSERT", request, natural=fields.get(natural) if natural else None)

    def _update(self, keys: dict[str, Any], fields: dict[str, Any]) -> p.Plan:
        missing = [k for k in self.spec.key if k not in keys]
        if missing:
            return p.reject(f"UPDATE of {self.name} needs {', '.join(missing)}", "UPDATE")
        required = [f for f in self.spec.write.update_required if f not in fields]
        if required or not fields:
            needed = required or sorted(self.spec.fields)
            return p.reject(
                f"UPDATE of {self.name} needs {' or '.join(needed)}: nothing to change", "UPDATE"
            )
        error = self._check("UPDATE", fields)
        if error:
            return p.reject(error, "UPDATE")
        index = self._index()
        if index is not None and _key_text(keys[self.spec.key[-1]]) not in index:
            return p.reject(f"no {self.name} with {_describe(keys)}", "UPDATE")
        if self.spec.update_path is not None:  # snippets: PUT /v1/snippets {name, value}
            body = {**keys, **fields}
            request = WriteRequest("app", "PUT", self.spec.update_path, body)
        else:
            path = render_path(self.spec.item_path, keys)
            request = WriteRequest("app", "PUT", path, self._body(fields))
        return p.send("UPDATE", request, key=keys[self.spec.key[-1]])

    def _delete(self, keys: dict[str, Any]) -> p.Plan:
        missing = [k for k in self.spec.key if k not in keys]
        if missing:
            return p.reject(f"DELETE of {self.name} needs {', '.join(missing)}", "DELETE")
        index = self._index()
        if index is not None:
            record = index.get(_key_text(keys[self.spec.key[-1]]))
            if record is None:
                return p.skip(f"already absent: no {self.name} with {_describe(keys)}", "DELETE")
            if self.name == "Segments" and record.get("type", "manual") != "manual":
                return p.reject(
                    f"segment {keys['id']} is {record.get('type')}: only manual segments "
                    "can be deleted through the API",
                    "DELETE",
                )
        request = WriteRequest("app", "DELETE", render_path(self.spec.item_path, keys))
        return p.send("DELETE", request, key=keys[self.spec.key[-1]])

    def _check(self, operation: Operation, fields: dict[str, Any]) -> str | None:
        try:
            self.spec.check(operation, fields)
        except InvalidValue as exc:
            return str(exc)
        return None

    def _body(self, fields: dict[str, Any]) -> dict[str, Any]:
        wrap = self.spec.write.wrap
        return {wrap: fields} if wrap else fields

    # --- after the call -----------------------------------------------------------

    def applied(self, plan: p.Plan, response: Any) -> str:
        """Keep the index current; ``response`` None (a dry run) still notes new names."""
        if self._records is None:
            return ""
        memo = dict(plan.memo)
        key_field = self.spec.key[-1]
        if plan.operation in ("UPDATE", "DELETE"):
            self._forget(_key_text(memo.get("key")))
        record = _record(response) if plan.operation != "DELETE" else None
        if record is not None and record.get(key_field) is not None:
            self._remember(record)
            return f"{key_field} {record[key_field]}" if plan.operation == "INSERT" else ""
        natural = self.spec.natural_key
        if plan.operation == "INSERT" and natural and memo.get("natural") is not None:
            self._by_natural.setdefault(memo["natural"], PENDING)
        return ""

    def _forget(self, key: str) -> None:
        assert self._records is not None
        record = self._records.pop(key, None)
        natural = self.spec.natural_key
        if record and natural and self._by_natural.get(record.get(natural, "")) == key:
            del self._by_natural[record[natural]]

    def missing(self, plan: p.Plan) -> p.Plan:
        if plan.operation == "DELETE":
            return p.skip(f"already absent: {plan.request.path if plan.request else ''}", "DELETE")
        return p.reject(f"not found: {self.name} {plan.request.path if plan.request else ''}")


def _record(response: Any) -> dict[str, Any] | None:
    """The created record: enveloped ({"collection": {...}}) or bare (webhooks)."""
    if not isinstance(response, dict):
        return None
    if "id" in response:
        return response
    inner = [v for v in response.values() if isinstance(v, dict)]
    return inner[0] if len(inner) == 1 else None


def _key_text(value: Any) -> str:
    return "" if value is None else str(value)


def _describe(keys: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in keys.items())
