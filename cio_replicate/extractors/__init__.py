"""Irregular extractions, one named function per catalog ``extractor``.

Imported lazily by :func:`cio_replicate.extract.extract` (these modules build
on it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..extract import Batch, ExtractContext


def get_extractor(name: str) -> Callable[[ExtractContext], Iterator[Batch]]:
    from .memberships import segment_memberships
    from .objects import custom_objects
    from .people import customers, customers_attributes

    extractors: dict[str, Callable[[ExtractContext], Iterator[Batch]]] = {
        "customers": customers,
        "customers_attributes": customers_attributes,
        "objects": custom_objects,
        "segment_memberships": segment_memberships,
    }
    try:
        return extractors[name]
    except KeyError:
        raise UsageError(f"the catalog names an unknown extractor {name!r}") from None
