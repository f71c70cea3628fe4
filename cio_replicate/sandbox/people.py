"""People: generated lazily from their index, mutations kept in a small overlay.

Person i (0-based) of the base population is a pure function of (seed, i, base size):
ids `user-<i+1>` (a few hostile ones, some people email-only), cio_id `a<i+1 as 7 hex>`,
emails `person<i+1>@example.com` (some upper-case, some missing, some shared by two
people), `created_at` increasing with i. People created later are appended (index >= base).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .constants import DAY, EPOCH
from .rand import frac, key, mix, pick

FIRST = ("Ada", "Zoë", "José", "Łukasz", "Siobhán", "李", "Nguyễn", "O'Brien", "Émile", "Aya")
LAST = ("Lovelace", "Müller", "García", "Kowalski", "Ó Súilleabháin", "王", "Trần", "D'Arcy")
PLANS = ("free", "pro", "enterprise", "")
LONG_NAME = "a_custom_attribute_name_that_is_much_longer_than_one_hundred_characters_" + (
    "to_test_identifier_shortening_in_every_dialect"
)
SPECIAL_IDS = {2: "ünï-ÇØDÉ-3", 6: "user+7@weird/id", 10: "SELECT * FROM people; --11"}
_SPECIAL_BY_ID = {v: k for k, v in SPECIAL_IDS.items()}
_K_PERSON = key("person")


@dataclass(frozen=True)
class Person:
    index: int
    id: str | None
    email: str | None
    cio_id: str
    created_at: int
    updated: int
    attributes: Mapping[str, Any]  # custom attributes, raw JSON values
    attr_timestamps: Mapping[str, int]
    unsubscribed: bool
    devices: tuple[Mapping[str, Any], ...] = ()

    def identifiers(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "cio_id": self.cio_id}


@dataclass(frozen=True)
class Ident:
    """Just who someone is: enough for messages, activities and search results."""

    id: str | None
    email: str | None
    cio_id: str
    device: str | None = None

    def identifiers(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "cio_id": self.cio_id}


def cio_id_for(index: int) -> str:
    return f"a{index + 1:07x}"


def base_ident(seed: int, i: int) -> Ident:
    pid: str | None = SPECIAL_IDS.get(i, f"user-{i + 1}")
    email: str | None = f"person{i + 1}@example.com"
    if i % 23 == 11:
        email = f"person{i}@example.com"  # shares the previous person's address
    elif i % 7 == 3:
        email = f"Person{i + 1}@Example.COM"
    if i % 13 == 5:
        pid = None
    elif i % 17 == 9:
        email = None
    device = f"dev{mix(mix(seed, _K_PERSON, i), 12):016x}" if i % 5 == 0 else None
    return Ident(pid, email, cio_id_for(i), device)


def ident_of(person: Person) -> Ident:
    device = str(person.devices[0]["id"]) if person.devices else None
    return Ident(person.id, person.email, person.cio_id, device)


def base_person(seed: int, i: int, n: int) -> Person:
    h = mix(seed, _K_PERSON, i)
    created = EPOCH - 730 * DAY + (i * (729 * DAY)) // max(n, 1)
    ident = base_ident(seed, i)
    pid, email = ident.id, ident.email
    newer = i >= (n * 3) // 5
    attrs: dict[str, Any] = {
        "first_name": pick(FIRST, h, 1),
        "last_name": pick(LAST, h, 2),
        "plan": pick(PLANS, h, 3),
        "age": 18 + h % 60,
        "vip": h % 9 == 0,
        "Favorite Color": pick(("red", "blue", "vert émeraude", ""), h, 4),
        "address.city": pick(("Berlin", "São Paulo", "東京", "New York"), h, 5),
        'nick"name': pick(('"Ace"', "O'Neil", "back\\slash", "tab\there"), h, 6),
        "LifetimeValue": f"{(h % 100_000) / 100:.2f}",
        "lifetimevalue": str(h % 1000),
        "名前 (ユニコード)": pick(("テスト", "名前", "🙂"), h, 7),
        "select": pick(("from", "where", "drop table"), h, 8),
        LONG_NAME: "long name",
        "emoji": pick(("🎉🚀", "👩‍💻", "🇩🇪"), h, 9),
        "empty": "",
        "score": pick(("gold", "silver", "n/a"), h, 10) if newer else (h % 1000) / 10,
    }
    if newer:
        attrs["loyalty_tier"] = pick(("bronze", "silver", "gold"), h, 11)
    if i % 50 == 7:
        attrs["notes"] = ("Lorem ipsum ✓ " * 800)[:10_000]
    if i % 4 == 1:
        prefs = {"topics": {"topic_1": bool(h & 1), "topic_2": bool(h & 2)}}
        attrs["cio_subscription_preferences"] = json.dumps(prefs)
    unsubscribed = i % 11 == 4
    stamps = {name: created + (mix(h, key(name)) % (300 * DAY)) for name in attrs}
    devices: tuple[Mapping[str, Any], ...] = ()
    if ident.device is not None:
        devices = (
            {
                "id": ident.device,
                "last_used": created + int(frac(h, 13) * 200 * DAY),
                "platform": pick(("ios", "android"), h, 14),
                "attributes": {"app_version": pick(("3.1.0", "3.2.1"), h, 15)},
            },
        )
    updated = max([created, *stamps.values()])
    return Person(
        i, pid, email, cio_id_for(i), created, updated, attrs, stamps, unsubscribed, devices
    )


def attribute_text(value: Any) -> str:
    """Attribute values as the App API returns them: always strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def customer_object(person: Person, requested_id: str | None = None) -> dict[str, Any]:
    """The per-person object of /v1/customers/{id}/attributes and /attributes (batch)."""
    attrs: dict[str, str] = {}
    stamps: dict[str, int] = {"cio_id": person.created_at}
    for name, value in (("id", person.id), ("email", person.email)):
        if value is not None:
            attrs[name] = value
            stamps[name] = person.created_at
    attrs["cio_id"] = person.cio_id
    attrs["created_at"] = str(person.created_at)
    stamps["created_at"] = person.created_at
    for name, value in person.attributes.items():
        if value is not None:
            attrs[name] = attribute_text(value)
            stamps[name] = person.attr_timestamps.get(name, person.created_at)
    if "cio_subscription_preferences" in attrs:
        attrs["_cio_subscription_preferences_computed"] = attrs["cio_subscription_preferences"]
        stamps["_cio_subscription_preferences_computed"] = 0
    attrs["unsubscribed"] = "true" if person.unsubscribed else "false"
    stamps["unsubscribed"] = person.attr_timestamps.get("unsubscribed", person.created_at)
    return {
        "id": requested_id if requested_id is not None else (person.id or person.cio_id),
        "identifiers": person.identifiers(),
        "attributes": attrs,
        "timestamps": stamps,
        "unsubscribed": person.unsubscribed,
        "devices": [dict(d) for d in person.devices],
    }


@dataclass
class PeopleStore:
    seed: int
    base: int
    overlay: dict[int, Person] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    added: int = 0
    by_id: dict[str, int] = field(default_factory=dict)  # ids set or changed by mutations

    @property
    def total(self) -> int:
        return self.base + self.added

    def get(self, index: int) -> Person | None:
        if index < 0 or index >= self.total or index in self.deleted:
            return None
        if index in self.overlay:
            return self.overlay[index]
        return base_person(self.seed, index, self.base)

    def base_identity(self, index: int) -> Ident:
        """Who received a base message/activity (identity at generation time)."""
        return base_ident(self.seed, index)

    def ident(self, index: int) -> Ident | None:
        """Current identifiers of a live person, without building their attributes."""
        if index < 0 or index >= self.total or index in self.deleted:
            return None
        if index in self.overlay:
            return ident_of(self.overlay[index])
        return base_ident(self.seed, index)

    def iter_from(self, start: int = 0) -> Iterator[Person]:
        for index in range(max(start, 0), self.total):
            person = self.get(index)
            if person is not None:
                yield person

    def count(self) -> int:
        return self.total - len(self.deleted)

    # lookups -----------------------------------------------------------------
    def find_by_id(self, pid: str) -> Person | None:
        candidates = []
        if pid in self.by_id:
            candidates.append(self.by_id[pid])
        if pid in _SPECIAL_BY_ID:
            candidates.append(_SPECIAL_BY_ID[pid])
        match = re.fullmatch(r"user-(\d{1,9})", pid)
        if match:
            candidates.append(int(match.group(1)) - 1)
        for index in candidates:
            person = self.get(index)
            if person is not None and person.id == pid:
                return person
        return None

    def find_by_cio_id(self, cio_id: str) -> Person | None:
        if not re.fullmatch(r"a[0-9a-f]{7,9}", cio_id):
            return None
        person = self.get(int(cio_id[1:], 16) - 1)
        return person if person is not None and person.cio_id == cio_id else None

    def find_by_email(self, email: str) -> list[Person]:
        wanted = email.lower()
        found: dict[int, Person] = {}
        match = re.fullmatch(r"person(\d{1,9})@example\.com", wanted)
        if match:
            number = int(match.group(1))
            for index in (number - 1, number):
                person = self.get(index)
                if person is not None and (person.email or "").lower() == wanted:
                    found[index] = person
        for index, person in self.overlay.items():
            if index not in self.deleted and (person.email or "").lower() == wanted:
                found[index] = person
            elif index in found and (person.email or "").lower() != wanted:
                del found[index]
        return [found[i] for i in sorted(found)]

    def find(self, value: str, id_type: str) -> Person | None:
        if id_type == "email":
            matches = self.find_by_email(value)
            return matches[0] if matches else None
        if id_type == "cio_id":
            return self.find_by_cio_id(value.removeprefix("cio_"))
        return self.find_by_id(value)

    # mutations (called through Workspace, which stamps times) -----------------
    def put(self, person: Person) -> Person:
        self.overlay[person.index] = person
        if person.id is not None:
            self.by_id[person.id] = person.index
        return person

    def create(
        self, pid: str | None, email: str | None, attrs: Mapping[str, Any], now: int
    ) -> Person:
        index = self.total
        self.added += 1
        stamps = dict.fromkeys(attrs, now)
        unsub = bool(attrs.get("unsubscribed", False))
        custom = {k: v for k, v in attrs.items() if k not in ("unsubscribed", "id", "email")}
        person = Person(index, pid, email, cio_id_for(index), now, now, custom, stamps, unsub)
        return self.put(person)

    def update(self, person: Person, changes: Mapping[str, Any], now: int) -> Person:
        attrs = dict(person.attributes)
        stamps = dict(person.attr_timestamps)
        fields: dict[str, Any] = {"updated": now}
        for name, value in changes.items():
            if name in ("id", "email"):
                fields[name] = value if value not in ("", None) else None
            elif name == "unsubscribed":
                fields["unsubscribed"] = value in (True, "true", "TRUE", 1, "1")
                stamps[name] = now
            elif value is None or value == "":
                attrs.pop(name, None)
                stamps.pop(name, None)
            else:
                attrs[name] = value
                stamps[name] = now
        return self.put(replace(person, attributes=attrs, attr_timestamps=stamps, **fields))

    def delete(self, person: Person) -> None:
        self.deleted.add(person.index)
        self.overlay.pop(person.index, None)
        if person.id is not None and self.by_id.get(person.id) == person.index:
            del self.by_id[person.id]
