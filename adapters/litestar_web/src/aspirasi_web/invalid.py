"""Litestar's refusals of a typed body or parameter, as the core's :class:`Invalid`:
the API answers them like every other bad input (422 problem+json, one entry per
field, translated), not as Litestar's 400 ``{status_code, detail, extra}``."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, SerializationException, ValidationException

from aspirasi_core.domain.errors import FieldError, Invalid

NOT_JSON = "The request body is not valid JSON."
NOT_OBJECT = "The request body must be a JSON object."
NOT_JSON_MEDIA = "Send the body as JSON, with Content-Type: application/json."
#: The media types of a JSON body: ``application/json``, ``application/…+json``.
JSON_MEDIA = re.compile(r"application/(?:[\w.+-]+\+)?json")

#: msgspec's wording of a value of the wrong type → (code, msgid).
_EXPECTED = re.compile(r"Expected `([a-z]+)")
_BY_TYPE = {
    "str": ("text_expected", "Send this as text."),
    "int": ("bad_number", "Send a whole number in plain digits."),
    "bool": ("flag_invalid", "Choose yes or no."),
    "array": ("list_expected", "Send a list."),
}
_OTHER = ("invalid_value", "This value is not valid.")
_MISSING = re.compile(r"missing required field `([^`]+)`")


def bad_body(message: str) -> Invalid:
    """The body as a whole is refused: 422 ``invalid_json``."""
    return Invalid(
        message, code="invalid_json", errors=[FieldError("body", "invalid_json", message)]
    )


def _field_error(entry: dict[str, Any]) -> FieldError:
    text = str(entry.get("message", ""))
    key = str(entry.get("key") or "")
    if missing := _MISSING.search(text):
        return FieldError(missing.group(1), "required", "This field is required.")
    found = _EXPECTED.search(text)
    if key == "data":  # the body as a whole: none, or not an object
        return FieldError("body", "invalid_json", NOT_OBJECT)
    code, msgid = _BY_TYPE.get(found.group(1), _OTHER) if found else _OTHER
    if "Invalid enum value" in text:
        code, msgid = "invalid_choice", "Choose one of the given values."
    return FieldError(key.split(".")[0] or "body", code, msgid)


def as_invalid(exc: ClientException) -> Invalid | None:
    """The core's :class:`Invalid` for a body or parameter Litestar refused (a
    :class:`ValidationException`, or a body that is not JSON); None for other
    client errors."""
    if isinstance(exc.__cause__, SerializationException):
        return bad_body(NOT_JSON)
    if not isinstance(exc, ValidationException):
        return None
    entries = exc.extra if isinstance(exc.extra, list) else []
    errors = [_field_error(e) for e in entries if isinstance(e, dict)]
    if any(e.code == "invalid_json" for e in errors):
        return bad_body(NOT_OBJECT)
    if not errors:
        errors = [FieldError("body", *_OTHER)]
    return Invalid(errors=errors, code=errors[0].code if len(errors) == 1 else "invalid")


#: The one spelling of a number in a path or a query: ASCII digits, no sign, no
#: space, no leading zero (``" 1"``, ``01`` and ``１`` are refused, not read as 1).
STRICT_INT = re.compile(r"0|[1-9][0-9]*")
#: Scope key: the body used a spelling the typed schema no longer documents but
#: the API read before (:func:`old_spelling`), still read for one release; the
#: answer says ``Deprecation: true`` (``middleware.security_headers``).
DEPRECATED = "aspirasi.deprecated"


def old_spelling(value: Any, annotation: Any) -> bool:
    """A digit string for a number, or ``"true"``/``"false"`` (any case) for a flag,
    that the field reads once converted: what JSON clients sent before the bodies
    were typed (the core took digit strings and flag words)."""
    if not isinstance(value, str):
        return False
    if not (STRICT_INT.fullmatch(value) or value.lower() in ("true", "false")):
        return False
    try:
        msgspec.convert(value, annotation, strict=False)
    except msgspec.ValidationError:
        return False
    return True


def field_errors(
    value: Any, cls: type[Any], old_spellings: list[str] | None = None
) -> list[FieldError]:
    """Every field of ``value`` (decoded JSON) whose type does not fit the struct
    ``cls``, each on its own (msgspec stops at the first). Checked strictly: JSON
    has its own numbers and booleans, so ``"TRUE"`` is no flag and ``"5"`` no
    number here (Litestar's conversion afterwards is lax, made for query strings);
    a field that still takes the old digit strings says so in its type (``int | str``).
    With ``old_spellings``, an :func:`old_spelling` is no error: its field's name is
    added to the list instead."""
    if not isinstance(value, dict):
        return [FieldError("body", "invalid_json", NOT_OBJECT)]
    errors = []
    for field in msgspec.structs.fields(cls):
        if field.encode_name not in value:
            continue
        try:
            msgspec.convert(value[field.encode_name], field.type, strict=True)
        except msgspec.ValidationError as exc:
            if old_spellings is not None and old_spelling(value[field.encode_name], field.type):
                old_spellings.append(field.encode_name)
                continue
            error = _field_error({"message": str(exc), "key": field.encode_name})
            errors.append(declared_error(field.type, error))
    return errors


def declared_error(annotation: Any, error: FieldError) -> FieldError:
    """The error a field declares for any value it refuses (``Meta(extra={"error":
    (code, message)})``: the core's own code, e.g. ``visibility_unknown``), else
    ``error``."""
    for meta in getattr(annotation, "__metadata__", ()):
        declared = (getattr(meta, "extra", None) or {}).get("error")
        if declared:
            code, message = declared
            return FieldError(error.field, code, message)
    return error


def _raise(errors: list[FieldError]) -> None:
    if any(e.code == "invalid_json" for e in errors):
        raise bad_body(NOT_OBJECT)
    if errors:
        raise Invalid(errors=errors, code=errors[0].code if len(errors) == 1 else "invalid")


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of a route whose body is a JSON struct: a form, a body
    that is not JSON, or fields of the wrong type are refused here (422), every
    field at once, before Litestar converts it."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    media_type = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
    if media_type != RequestEncodingType.JSON:
        return
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if (media or body) and not JSON_MEDIA.fullmatch(media):
        # A form or ``text/plain`` (what another site's page can make a browser
        # send) is never read as JSON: the API's CSRF rule counts on it (csrf.py).
        raise bad_body(NOT_JSON_MEDIA)
    cls = data.annotation
    if not (isinstance(cls, type) and issubclass(cls, msgspec.Struct)):
        return
    if not body:
        return  # Litestar answers a missing body
    try:
        value = await request.json()
    except (SerializationException, RecursionError, UnicodeDecodeError):
        # not JSON, nested deeper than the decoder goes, or not UTF-8
        raise bad_body(NOT_JSON) from None
    old: list[str] = []
    _raise(field_errors(value, cls, old))
    if old:
        request.scope[DEPRECATED] = old  # type: ignore[literal-required]


T = TypeVar("T")


def typed(request: Request[Any, Any, Any], value: Any, cls: type[T]) -> T:
    """``value`` (the request's decoded JSON) as the struct ``cls``, checked as
    :func:`check_json_body` checks a body."""
    old: list[str] = []
    _raise(field_errors(value, cls, old))
    if old:
        request.scope[DEPRECATED] = old  # type: ignore[literal-required]
    return msgspec.convert(value, cls, strict=False)
