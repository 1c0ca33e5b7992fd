"""Reading settings from ``ASPIRASI_*`` environment variables: each field's
variable, and the parsing of its text into the field's type.

The core's :class:`~aspirasi_core.settings.Settings` and every plugin's settings are
declared the same way: a frozen attrs class whose fields are made by :func:`setting`
(a default and a help text), read by :func:`env_values` (the core's) or
:func:`plugin_settings` (a plugin's, from ``Settings.extra``), and listed for the docs
by :func:`documented_fields`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

PREFIX = "ASPIRASI_"
T = TypeVar("T", bound=attrs.AttrsInstance)


def setting(
    default: Any,
    help: str,
    *,
    secret: bool = False,
    kind: str | None = None,
    converter: Any = None,
    validator: Any = None,
) -> Any:
    """A field of a settings class: its ``default``, the ``help`` text the docs show,
    ``secret`` (masked in diagnostics), ``kind`` (``"list"``: comma-separated), and
    attrs' ``converter`` and ``validator`` (a validator raises ``ValueError``)."""
    return attrs.field(
        default=default,
        converter=converter,
        validator=validator,
        metadata={"help": help, "secret": secret, "kind": kind},
    )


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
    if type_ in ("float", float):
        return float(raw.strip())
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


def plugin_settings(cls: type[T], settings: Any, prefix: str) -> T:
    """A plugin's settings: the attrs class ``cls`` (fields made by :func:`setting`)
    read from the ``ASPIRASI_<PREFIX><FIELD>`` variables, which the core keeps in
    ``settings.extra``. ``prefix`` is the plugin's, lower case with a trailing
    underscore (``"land_issue_"``: ``ASPIRASI_LAND_ISSUE_AGENCY`` is field ``agency``).

    Values are parsed as the core's are (ints, floats, booleans, lists) and then
    checked by the class's own attrs validators. Raises ``ValueError`` naming the
    variable for a value that cannot be parsed or is refused, and for a variable
    with the plugin's prefix that is not one of its settings (a typo would
    otherwise be silently ignored).
    """
    if not prefix.endswith("_") or prefix != prefix.lower():
        raise ValueError(f"a plugin's settings prefix is lower case and ends with '_': {prefix!r}")
    extra: Mapping[str, str] = settings.extra
    fields = {prefix + field.name: field for field in attrs.fields(cls)}
    unknown = sorted(key for key in extra if key.startswith(prefix) and key not in fields)
    if unknown:
        names = ", ".join(PREFIX + key.upper() for key in unknown)
        known = ", ".join(sorted(PREFIX + key.upper() for key in fields))
        raise ValueError(f"{names}: not a setting of this plugin (known: {known})")
    values: dict[str, Any] = {}
    for key, field in fields.items():
        if key in extra:
            try:
                values[field.name] = convert(field, extra[key])
            except ValueError as exc:
                raise ValueError(f"{PREFIX}{key.upper()}: {exc}") from None
    try:
        return cls(**values)
    except ValueError as exc:
        message = str(exc)
        raise ValueError(
            message if message.startswith(PREFIX) else f"{PREFIX}{prefix.upper()}*: {message}"
        ) from None


def documented_fields(cls: type[Any], prefix: str = "") -> list[tuple[str, str, Any]]:
    """(variable, help, default) of every public field of the settings class ``cls``
    (``prefix``: a plugin's, as for :func:`plugin_settings`), for the docs."""
    rows = []
    for field in attrs.fields(cls):
        if field.metadata.get("internal"):
            continue
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        variable = PREFIX + (prefix + field.name).upper()
        rows.append((variable, field.metadata["help"], default))
    return rows
