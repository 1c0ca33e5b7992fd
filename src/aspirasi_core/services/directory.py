"""The directory's entries (agencies, categories, sub-categories) as one shape:
what each kind takes when created and changed, and the two use cases
(:meth:`AdminService.create_entry <aspirasi_core.services.admin.AdminService.create_entry>`
and :meth:`~aspirasi_core.services.admin.AdminService.update_entry`) built on it.

A kind names its look-ups in the directory port, the error of an unknown entry,
the fields a change may set and whether it belongs to a category. A change of a
sub-category's SOP days re-times the open messages in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from ..domain.errors import Invalid, NotFound
from ..domain.sop import check_sop_days
from ..domain.validation import LIMITS, Collector, check_flag, check_id, clean_text, normalize_code
from .ports import DirectoryRepository

#: "Not given" for optional arguments where None means something (a
#: sub-category's SOP days: None returns to the default).
UNSET: Any = object()

#: The kinds of directory entries.
EntryKind = Literal["agency", "category", "subcategory"]
#: Fields a change may set, and how each is checked.
_CHECKS: Mapping[str, Callable[[Any, str], Any]] = {
    "name": lambda v, f: clean_text(v, f, max_length=LIMITS["name"]),
    "is_active": check_flag,
    "sop_confirm_days": check_sop_days,
    "sop_reply_days": check_sop_days,
}


@attrs.frozen
class Kind:
    """One kind of directory entry, on the directory port."""

    #: Looks an entry up by id.
    get: Callable[[DirectoryRepository, int], Any]
    #: Looks an entry up by its code (and category, for a sub-category).
    by_code: Callable[[DirectoryRepository, int | None, str], Any]
    add: Callable[[DirectoryRepository, int | None, str, str], Any]
    update: Callable[[DirectoryRepository, int, dict[str, Any]], Any]
    #: NotFound of an unknown id (message and code).
    not_found: tuple[str, str]
    #: The fields a change may set; ``required``: those it must.
    editable: frozenset[str]
    required: frozenset[str] = frozenset()
    #: Whether an entry belongs to a category (``category_id`` when created).
    in_category: bool = False


KINDS: Mapping[str, Kind] = {
    "agency": Kind(
        get=lambda d, i: d.agency(i),
        by_code=lambda d, _c, code: d.agency_by_code(code),
        add=lambda d, _c, code, name: d.add_agency(code, name),
        update=lambda d, i, f: d.update_agency(i, **f),
        not_found=("The agency was not found.", "agency_not_found"),
        editable=frozenset({"name", "is_active"}),
    ),
    "category": Kind(
        get=lambda d, i: d.category(i),
        by_code=lambda d, _c, code: d.category_by_code(code),
        add=lambda d, _c, code, name: d.add_category(code, name),
        update=lambda d, i, f: d.update_category(i, **f),
        not_found=("The category was not found.", "category_not_found"),
        editable=frozenset({"name"}),
        required=frozenset({"name"}),
    ),
    "subcategory": Kind(
        get=lambda d, i: d.subcategory(i),
        by_code=lambda d, c, code: d.subcategory_by_code(c or 0, code),
        add=lambda d, c, code, name: d.add_subcategory(c or 0, code, name),
        update=lambda d, i, f: d.update_subcategory(i, **f),
        not_found=("The sub-category was not found.", "subcategory_not_found"),
        editable=frozenset({"name", "is_active", "sop_confirm_days", "sop_reply_days"}),
        in_category=True,
    ),
}


def kind_of(kind: str) -> Kind:
    """The :class:`Kind` named ``kind``; ``ValueError`` for another name (a caller's mistake)."""
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"no directory kind {kind!r}") from None


@attrs.frozen
class NewEntry:
    """A checked new entry: its category (sub-categories), code and name."""

    category_id: int | None
    code: str
    name: str


def check_new(kind: Kind, fields: Mapping[str, Any]) -> NewEntry:
    """The fields of a new entry (``code``, ``name``, and ``category_id`` for a
    sub-category), checked; every error at once."""
    allowed = {"code", "name", "category_id"} if kind.in_category else {"code", "name"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"a new entry takes no field(s) {', '.join(sorted(unknown))}")
    collector = Collector()
    category_id = None
    if kind.in_category:
        category_id = collector.check(check_id, fields.get("category_id"), "category_id")
    code = collector.check(normalize_code, fields.get("code", ""))
    name = collector.check(clean_text, fields.get("name", ""), "name", max_length=LIMITS["name"])
    collector.raise_if_any()
    assert code is not None and name is not None
    return NewEntry(category_id, code, name)


def check_changes(kind: Kind, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a change, checked (None: not changed, but for the SOP days,
    where None returns to the default and leaving the field out, or
    :data:`UNSET`, changes nothing)."""
    unknown = set(fields) - kind.editable
    if unknown:
        raise TypeError(f"a change takes no field(s) {', '.join(sorted(unknown))}")
    collector = Collector()
    out: dict[str, Any] = {}
    for field, value in fields.items():
        if value is UNSET:
            continue
        if value is None and field not in kind.required and not field.startswith("sop_"):
            continue
        out[field] = collector.check(_CHECKS[field], value, field)
    for field in kind.required - set(fields):
        out[field] = collector.check(_CHECKS[field], None, field)
    collector.raise_if_any()
    return out


def add(directory: DirectoryRepository, kind: Kind, new: NewEntry) -> Any:
    """Insert the checked entry; a taken code (or unknown category) is a field error."""
    if kind.in_category and directory.category(new.category_id or 0) is None:
        raise Invalid.field("category_id", "category_unknown", "Choose a category.")
    if kind.by_code(directory, new.category_id, new.code):
        raise Invalid.field("code", "code_taken", "This code is already used.")
    return kind.add(directory, new.category_id, new.code, new.name)


def update(
    directory: DirectoryRepository, kind: Kind, entry_id: int, changes: dict[str, Any]
) -> Any:
    """Apply the checked changes (none: the entry as it is); NotFound when unknown."""
    found = kind.get(directory, entry_id)
    if found is None:
        message, code = kind.not_found
        raise NotFound(message, code=code)
    return kind.update(directory, entry_id, changes) if changes else found


__all__ = [
    "KINDS",
    "UNSET",
    "EntryKind",
    "Kind",
    "NewEntry",
    "add",
    "check_changes",
    "check_new",
    "update",
]
