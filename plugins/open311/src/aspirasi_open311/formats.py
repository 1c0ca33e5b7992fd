"""GeoReport v2's two formats: the same documents as JSON and as XML.

A document is a list of records (dicts) under a root element; in XML each
record is an element of its own (``<services><service>…``), a list inside a
record is an element with one child per value (``<formats><format>…``),
``True``/``False`` are ``true``/``false`` and None an empty element. XML is
written with :mod:`xml.etree.ElementTree`, which escapes every text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json", "xml": "text/xml"}

#: The element of each value of a list, by the list's name.
_ITEM = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def split_format(name: str) -> tuple[str, str | None]:
    """``"services.json"`` → ``("services", "json")``; no known suffix → ``(name, None)``."""
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix.lower() in FORMATS:
        return stem, suffix.lower()
    return name, None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: Element, name: str, value: Any) -> None:
    child = SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _fill(child, key, item)
    elif isinstance(value, list | tuple):
        item_name = _ITEM.get(name, "item")
        for item in value:
            _fill(child, item_name, item)
    else:
        child.text = _text(value)


def to_xml(root: str, item: str, records: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> bytes:
    """``records`` under ``<root>``, each as ``<item>``; a single mapping is
    written as the root's own children (the discovery and a service definition)."""
    top = Element(root)
    if isinstance(records, Mapping):
        for key, value in records.items():
            _fill(top, key, value)
    else:
        for record in records:
            _fill(top, item, record)
    return tostring(top, encoding="utf-8", xml_declaration=True)


def to_json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def render(fmt: str, root: str, item: str, document: Any) -> tuple[bytes, str]:
    """The body and its media type. Litestar adds ``; charset=utf-8`` to a
    ``text/`` type itself (naming it here gave the XML answers the charset twice);
    JSON names it here."""
    body = to_xml(root, item, document) if fmt == "xml" else to_json(document)
    media_type = MEDIA_TYPES[fmt]
    return body, media_type if media_type.startswith("text/") else f"{media_type}; charset=utf-8"


def errors_document(status: int, descriptions: Sequence[str]) -> list[dict[str, Any]]:
    """The specification's error format: a list of ``{code, description}``."""
    return [{"code": status, "description": d} for d in descriptions]
