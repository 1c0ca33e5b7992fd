"""Reading settings from ``ASPIRASI_*`` environment variables: each field's
variable, and the parsing of its text into the field's type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

PREFIX = "ASPIRASI_"


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def parse_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def convert(field: attrs.Attribute, raw: str) -> Any:  # type: ignore[type-arg]
    kind = field.metadata.get("kind")
    if kind == "list":
        return parse_list(raw)
    type_ = field.type
    if type_ in ("bool", bool):
        return parse_bool(raw)
    if type_ in ("int", int):
        return int(raw.strip())
    if type_ in ("str | None",):
        return raw or None
    return raw


def env_values(cls: type[Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The values of the fields of the attrs class ``cls`` that ``environ`` sets,
    and in ``extra`` every other ``ASPIRASI_*`` variable (for plugins).

    Raises ``ValueError`` naming the variable when a value cannot be parsed.
    """
    values: dict[str, Any] = {}
    known = set()
    for field in attrs.fields(cls):
        if field.name == "extra":
            continue
        var = PREFIX + field.name.upper()
        known.add(var)
        if var not in environ:
            continue
        raw = environ[var]
        try:
            values[field.name] = convert(field, raw)
        except ValueError as exc:
            raise ValueError(f"{var}: {exc}") from None
    values["extra"] = {
        key[len(PREFIX) :].lower(): value
        for key, value in environ.items()
        if key.startswith(PREFIX) and key not in known
    }
    return values
