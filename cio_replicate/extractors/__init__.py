"""Irregular extractions, one named function per catalog ``extractor``.

Imported lazily by :func:`cio_replicate.extract.extract` (these modules build
on it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..extract import Extractor


def get_extractor(name: str) -> Extractor:
    from .memberships import segment_memberships
    from .objects import custom_objects
    from .people import customers, customers_attributes

    extractors: dict[str, Extractor] = {
        "customers": customers,
        "customers_attributes": customers_attributes,
        "objects": custom_objects,
        "segment_memberships": segment_memberships,
    }
    try:
        return extractors[name]
    except KeyError:
        raise UsageError(f"the catalog names an unknown extractor {name!r}") from None
