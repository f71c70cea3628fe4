"""Custom objects and their relationships to people (a mixin of Workspace).

Base relationships are generated: base person i relates to the object at position
i % n of each type with probability 0.6 (so an object's people are an arithmetic progression).
Changes are an overlay: `rel_added` (with relationship attributes) and `rel_removed`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .misc import MiscData
from .people import PeopleStore, Person
from .rand import frac, key, pick

_K_REL = key("relationship")


class ObjectsMixin:
    seed: int
    misc: MiscData
    people: PeopleStore
    object_order: dict[str, list[str]]
    rel_added: dict[tuple[str, str, int], dict[str, Any]]
    rel_removed: set[tuple[str, str, int]]

    def now(self) -> int:
        raise NotImplementedError

    def put_object(
        self, type_id: str, object_id: str, attributes: Mapping[str, Any]
    ) -> dict[str, Any]:
        objs = self.misc.objects[type_id]
        now = self.now()
        if object_id not in objs:
            seq = sum(len(o) for o in self.misc.objects.values()) + 1
            objs[object_id] = {
                "object_type_id": type_id,
                "object_id": object_id,
                "cio_object_id": f"n{int(type_id)}{seq:07x}",
                "created": now,
                "updated": now,
                "attributes": {},
                "timestamps": {},
            }
        obj = objs[object_id]
        for name, value in attributes.items():
            if value is None or value == "":
                obj["attributes"].pop(name, None)
                obj["timestamps"].pop(name, None)
            else:
                obj["attributes"][name] = value
                obj["timestamps"][name] = now
        obj["updated"] = now
        return obj

    def delete_object(self, type_id: str, object_id: str) -> None:
        del self.misc.objects[type_id][object_id]
        for rel in [r for r in self.rel_added if r[:2] == (type_id, object_id)]:
            del self.rel_added[rel]

    def _base_relation(self, type_id: str, index: int) -> tuple[str, dict[str, Any]] | None:
        order = self.object_order.get(type_id, [])
        if index >= self.people.base or not order:
            return None
        if frac(self.seed, _K_REL, int(type_id), index) >= 0.6:
            return None
        object_id = order[index % len(order)]
        if object_id not in self.misc.objects[type_id]:
            return None
        return object_id, {"role": pick(("admin", "member", "owner"), self.seed, index)}

    def relationships_of_person(self, person: Person) -> list[dict[str, Any]]:
        out = []
        for type_id in sorted(self.misc.objects, key=int):
            related: dict[str, dict[str, Any]] = {}
            base = self._base_relation(type_id, person.index)
            if base and (type_id, base[0], person.index) not in self.rel_removed:
                related[base[0]] = base[1]
            for (t, oid, idx), attrs in self.rel_added.items():
                if t == type_id and idx == person.index:
                    related[oid] = attrs
            for oid, attrs in related.items():
                obj = self.misc.objects[type_id][oid]
                out.append(
                    {
                        "identifiers": {"object_id": oid, "cio_object_id": obj["cio_object_id"]},
                        "object_type_id": int(type_id),
                        "attributes": dict(attrs),
                        "timestamps": dict.fromkeys(attrs, obj["created"]),
                    }
                )
        return out

    def people_of_object(
        self, type_id: str, object_id: str
    ) -> Iterator[tuple[Person, dict[str, Any]]]:
        order = self.object_order.get(type_id, [])
        if object_id in order:
            for index in range(order.index(object_id), self.people.base, len(order)):
                rel = self._base_relation(type_id, index)
                person = self.people.get(index)
                if rel and person and (type_id, object_id, index) not in self.rel_removed:
                    if (type_id, object_id, index) not in self.rel_added:
                        yield person, rel[1]
        for (t, oid, index), attrs in sorted(self.rel_added.items(), key=lambda r: r[0][2]):
            person = self.people.get(index)
            if t == type_id and oid == object_id and person is not None:
                yield person, attrs

    def relate(
        self,
        person: Person,
        type_id: str,
        object_id: str,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        rel = (type_id, object_id, person.index)
        self.rel_removed.discard(rel)
        self.rel_added[rel] = {k: v for k, v in (attributes or {}).items() if v not in (None, "")}

    def unrelate(self, person: Person, type_id: str, object_id: str) -> None:
        rel = (type_id, object_id, person.index)
        self.rel_added.pop(rel, None)
        self.rel_removed.add(rel)
