"""Super-admin use cases: staff accounts, agencies, categories, sub-categories.

Every call needs the ``admin.manage`` permission (held by super admins), but the
reads of the directory: :meth:`AdminService.staff_directory` answers anyone who
may enter the back office (``backoffice.access``). The first super admin is
created from the command line (``aspirasi users create-superadmin``) through
:meth:`AdminService.create_superadmin`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ..domain.audit import AuditAction
from ..domain.errors import Conflict, NotFound
from ..domain.model import Account, Agency, Category, Page, Role, Subcategory
from ..domain.policy import Perm
from ..domain.validation import (
    LIMITS,
    Collector,
    check_id,
    check_password,
    clean_text,
    normalize_email,
    normalize_username,
)
from ..plugin_types import CategoryDecl
from ..security.tokens import TokenPurpose
from . import directory
from .admin_staff import StaffInput, StaffMixin
from .audit import record
from .context import Context
from .core import EventRecorder, require_permission, run_write, run_write_sync
from .cursor import decode_cursor, encode_cursor, page_size
from .directory import UNSET, EntryKind
from .ports import NewAccount, UnitOfWork
from .sop import SopService


@attrs.frozen
class AccountChanges:
    """Fields a super admin may change; None leaves a field alone."""

    role: str | None = None
    agency_id: int | None = None
    permissions: tuple[str, ...] | None = None
    is_active: bool | None = None
    full_name: str | None = None


@attrs.frozen
class StaffDirectory:
    """What the back office chooses from when forwarding a message or filtering
    its lists (:meth:`AdminService.staff_directory`): the categories (by id), the
    sub-categories and the agencies (by name), read together."""

    categories: tuple[Category, ...]
    subcategories: tuple[Subcategory, ...]
    agencies: tuple[Agency, ...]


class AdminService(StaffMixin):
    """Accounts (creating them: :class:`.admin_staff.StaffMixin`), agencies,
    categories and sub-categories."""

    # ------------------------------------------------------------------ accounts
    async def resend_invitation(self, ctx: Context, account_id: int) -> Account:
        """Mail a new invitation link to a staff account that has not set its
        password yet (the older link dies)."""
        self._require(ctx)
        account_id = check_id(account_id, "id")

        def script(uow: UnitOfWork, events: EventRecorder) -> Account:
            account = uow.accounts.get(account_id)
            if account is None:
                raise NotFound("The account was not found.", code="account_not_found")
            if not account.awaiting_password or not account.is_active:
                raise Conflict(
                    "This account already has a password.", code="invitation_not_pending"
                )
            self._invite(uow, events, account)
            return account

        return await run_write(self._d, script)

    async def update_account(
        self, ctx: Context, account_id: int, changes: AccountChanges
    ) -> Account:
        """Change an account's level, agency, extra permissions, name or active flag.

        Deactivating, or changing the level or agency, ends the account's sessions."""
        actor = self._require(ctx)
        account_id = check_id(account_id, "id")
        collector = Collector()
        permissions = None
        if changes.permissions is not None:
            permissions = self._check_permissions(changes.permissions, collector)
        full_name = None
        if changes.full_name is not None:
            full_name = collector.check(
                clean_text, changes.full_name, "full_name", max_length=LIMITS["full_name"]
            )
        collector.raise_if_any()
        deps = self._d

        def script(uow: UnitOfWork, events: EventRecorder) -> Account:
            account = uow.accounts.get(account_id)
            if account is None:
                raise NotFound("The account was not found.", code="account_not_found")
            if account.deleted:
                raise Conflict("Its owner deleted this account.", code="account_deleted")
            if account.id == actor.account_id and (
                changes.is_active is False or (changes.role not in (None, account.role))
            ):
                raise Conflict("You cannot demote or deactivate yourself.", code="self_change")
            fields: dict[str, object] = {}
            errors = Collector()
            kills_sessions = False
            role = changes.role if changes.role is not None else account.role
            if changes.role is not None or changes.agency_id is not None:
                if account.role == Role.USER or role == Role.USER:
                    errors.add("role", "role_unknown", "Citizens' accounts keep their level.")
                elif role == Role.SUPER_ADMIN and account.role != Role.SUPER_ADMIN:
                    errors.add("role", "role_unknown", "Choose the admin or operator level.")
                elif role != Role.SUPER_ADMIN:
                    agency = (
                        changes.agency_id if changes.agency_id is not None else account.agency_id
                    )
                    fields["agency_id"] = self._check_role_agency(uow, role, agency, errors)
                    fields["role"] = role
                    kills_sessions = (
                        role != account.role or fields["agency_id"] != account.agency_id
                    )
            errors.raise_if_any()
            if permissions is not None:
                fields["permissions"] = permissions
            if full_name:
                fields["full_name"] = full_name
            if changes.is_active is not None:
                fields["is_active"] = changes.is_active
                kills_sessions = kills_sessions or not changes.is_active
            updated = uow.accounts.update(account.id, **fields) if fields else account
            if kills_sessions:
                uow.tokens.delete_for_account(account.id, [TokenPurpose.SESSION, TokenPurpose.API])
            return updated

        return await run_write(deps, script)

    async def list_accounts(
        self,
        ctx: Context,
        *,
        role: str | None = None,
        agency_id: int | None = None,
        text: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Account]:
        self._require(ctx)
        before = decode_cursor(cursor)
        size = page_size(limit)
        search = clean_text(text, "q", max_length=100, required=False) or None
        rows = await self._d.db.transaction(
            lambda uow: uow.accounts.list(
                role=role, agency_id=agency_id, text=search, before_id=before, limit=size + 1
            ),
            write=False,
        )
        items = tuple(rows[:size])
        return Page(
            items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
        )

    async def get_account(self, ctx: Context, account_id: int) -> Account:
        """One account. Opening a citizen's account (their name, e-mail and
        masked NIK) is a read of personal data: it is audited (``account.read``)."""
        actor = self._require(ctx)
        found = await self._d.db.transaction(
            lambda uow: uow.accounts.get(check_id(account_id, "id")), write=False
        )
        if found is None:
            raise NotFound("The account was not found.", code="account_not_found")
        if found.role == Role.USER and found.id != actor.account_id:
            await self._d.db.transaction(
                lambda uow: record(
                    uow,
                    ctx,
                    AuditAction.ACCOUNT_READ,
                    at=self._d.clock.now(),
                    subject_account_id=found.id,
                ),
                write=True,
            )
        return found

    def create_superadmin(
        self, email: str, username: str, password: str, full_name: str = "Super Admin"
    ) -> Account:
        """Create a super admin without an actor (the CLI). Synchronous."""
        collector = Collector()
        address = collector.check(normalize_email, email)
        name = collector.check(normalize_username, username)
        collector.check(check_password, password, password, personal=(name or "", address or ""))
        collector.raise_if_any()
        assert address and name
        deps = self._d
        password_hash = deps.hasher.hash(password)

        def script(uow: UnitOfWork, events: EventRecorder) -> Account:
            taken = uow.accounts.clashes(email=address, username=name)
            if taken:
                raise Conflict(
                    "An account with this e-mail or username already exists.", code="duplicate"
                )
            now = deps.clock.now()
            return uow.accounts.add(
                NewAccount(
                    email=address,
                    username=name,
                    full_name=full_name,
                    role=Role.SUPER_ADMIN,
                    password_hash=password_hash,
                    created_at=now,
                    language=deps.settings.default_language,
                    email_verified_at=now,
                )
            )

        return run_write_sync(deps, script)

    # ------------------------------------------------------------------ directory
    async def agencies(
        self, ctx: Context | None = None, *, include_inactive: bool = False
    ) -> list[Agency]:
        """Agencies (anyone may list the active ones; inactive ones need admin.manage)."""
        if include_inactive:
            self._require(ctx or Context())
        return await self._d.db.transaction(
            lambda uow: uow.directory.agencies(include_inactive=include_inactive), write=False
        )

    async def categories(self) -> list[Category]:
        return await self._d.db.transaction(lambda uow: uow.directory.categories(), write=False)

    async def directory(self) -> tuple[list[Category], list[Agency]]:
        """The categories and every agency, inactive ones too (a staff page names
        the agency of an older message), in one read: what the back office's lists
        show beside each message."""
        return await self._d.db.transaction(
            lambda uow: (
                uow.directory.categories(),
                uow.directory.agencies(include_inactive=True),
            ),
            write=False,
        )

    async def staff_directory(
        self, ctx: Context, *, include_inactive: bool = False
    ) -> StaffDirectory:
        """The categories, sub-categories and agencies, in one read, for anyone
        who may enter the back office (``backoffice.access``): the ids a forward
        takes and the back-office lists filter by. Only the active sub-categories
        and agencies (the ones a forward accepts), unless ``include_inactive``:
        then the deactivated ones too, to name or filter older messages.
        Categories cannot be deactivated: all of them, always."""
        require_permission(self._d, ctx, Perm.BACKOFFICE)
        return await self._d.db.transaction(
            lambda uow: StaffDirectory(
                categories=tuple(uow.directory.categories()),
                subcategories=tuple(uow.directory.subcategories(include_inactive=include_inactive)),
                agencies=tuple(uow.directory.agencies(include_inactive=include_inactive)),
            ),
            write=False,
        )

    async def subcategories(
        self, category_id: int | None = None, *, include_inactive: bool = False
    ) -> list[Subcategory]:
        return await self._d.db.transaction(
            lambda uow: uow.directory.subcategories(category_id, include_inactive=include_inactive),
            write=False,
        )

    async def create_entry(self, ctx: Context, kind: EntryKind, **fields: Any) -> Any:
        """Add an agency, a category or a sub-category (``kind``): ``code`` and
        ``name``, and ``category_id`` for a sub-category. A taken code is a
        field error (``code_taken``)."""
        self._require(ctx)
        found = directory.kind_of(kind)
        new = directory.check_new(found, fields)
        return await run_write(self._d, lambda uow, _e: directory.add(uow.directory, found, new))

    async def update_entry(
        self, ctx: Context, kind: EntryKind, entry_id: int, **fields: Any
    ) -> Any:
        """Change an agency (``name``, ``is_active``), a category (``name``,
        required) or a sub-category (``name``, ``is_active``, and its SOP days
        ``sop_confirm_days``, ``sop_reply_days``: working days the agency has to
        confirm and to reply; None or an empty value returns to the default of
        the settings). None for ``name`` or ``is_active``: unchanged. Changing
        the SOP re-times the open messages."""
        self._require(ctx)
        found = directory.kind_of(kind)
        entry_id = check_id(entry_id, "id")
        changes = directory.check_changes(found, fields)
        sop_changed = "sop_confirm_days" in changes or "sop_reply_days" in changes

        def script(uow: UnitOfWork, events: EventRecorder) -> Any:
            updated = directory.update(uow.directory, found, entry_id, changes)
            if sop_changed:
                SopService(self._d).recompute(uow)
            return updated

        return await run_write(self._d, script)

    def ensure_categories(self, decls: Iterable[CategoryDecl]) -> int:
        """Create declared categories and sub-categories that are missing
        (start-up; never renames). Returns how many were created. Synchronous."""

        def script(uow: UnitOfWork, events: EventRecorder) -> int:
            created = 0
            for decl in decls:
                category = uow.directory.category_by_code(decl.category_code)
                if category is None:
                    category = uow.directory.add_category(decl.category_code, decl.category_name)
                    created += 1
                if uow.directory.subcategory_by_code(category.id, decl.code) is None:
                    uow.directory.add_subcategory(category.id, decl.code, decl.name)
                    created += 1
            return created

        return run_write_sync(self._d, script)


__all__ = ["UNSET", "AccountChanges", "AdminService", "StaffInput"]
