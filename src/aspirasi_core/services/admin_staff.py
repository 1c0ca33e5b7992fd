"""Super-admin use cases: creating staff accounts (part of
:class:`.admin.AdminService`).

Two ways in:

- :meth:`StaffMixin.invite_staff`: the super admin gives the e-mail, the name
  and the level; the person gets a mailed link (:class:`StaffInvited`, a
  single-use token of purpose ``staff_invitation`` stored hashed, expiring after
  :data:`INVITATION_TTL`) and sets their own password with it
  (:meth:`~.account_passwords.PasswordsMixin.accept_invitation`). Until then the
  account has no password and nobody can log in to it.
- :meth:`StaffMixin.create_staff`: the super admin types an initial password;
  from the super admin's pages the account must change it at its first log-in
  (``must_change_password``).

Without a username one is made from the e-mail address (``budi.santoso``,
then ``budi.santoso-2`` if taken).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

import attrs

from ..domain.errors import Unauthenticated
from ..domain.events import StaffAccountCreated, StaffInvited
from ..domain.model import Account, Actor, Role
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
from ..security.tokens import TokenPurpose
from .account_base import issue_link_token
from .context import Context
from .core import CoreDeps, EventRecorder, run_write
from .ports import NewAccount, UnitOfWork

#: How long an invitation link stays valid.
INVITATION_TTL = timedelta(days=7)
_NOT_USERNAME = re.compile(r"[^a-z0-9_.\-]+")


@attrs.frozen
class StaffInput:
    """A new staff account. ``password`` is used by :meth:`StaffMixin.create_staff`
    only; an empty ``username`` is made from the e-mail address (invitations).
    ``must_change_password``: the typed password is a temporary one its owner must
    replace at the first log-in (what the super admin's pages create; scripts and
    test worlds that set a known password leave it off)."""

    email: str
    username: str
    full_name: str
    password: str = attrs.field(default="", repr=False)
    role: str = Role.OPERATOR
    agency_id: int | None = None
    permissions: tuple[str, ...] = ()
    must_change_password: bool = False


def username_candidates(email: str) -> Iterable[str]:
    """Usernames made from an address's local part: ``budi.s``, ``budi.s-2``, …"""
    local = _NOT_USERNAME.sub(".", email.split("@", 1)[0].lower()).strip("._-")
    base = (local or "staff")[: LIMITS["username_max"] - 4]
    if len(base) < LIMITS["username_min"]:
        base = f"{base}-staff"
    yield base
    for n in range(2, 1000):
        yield f"{base}-{n}"


class AdminBase:
    """The dependencies and checks the super admin's use cases share."""

    def __init__(self, deps: CoreDeps) -> None:
        self._d = deps

    def _require(self, ctx: Context) -> Actor:
        if ctx.actor is None:
            raise Unauthenticated("Please log in.", code="login_required")
        self._d.policy.require(ctx.actor, Perm.ADMIN_MANAGE)
        return ctx.actor

    def _default_permissions(self, role: str, agency_code: str | None) -> frozenset[str]:
        """What plugins grant new staff accounts by default (grantable names only)."""
        grantable = self._d.policy.grantable()
        results = self._d.hook.aspirasi_default_permissions(role=role, agency_code=agency_code)
        return frozenset(name for names in results for name in names or () if name in grantable)

    def _check_permissions(self, values: Iterable[str], collector: Collector) -> frozenset[str]:
        granted = frozenset(values)
        unknown = granted - self._d.policy.grantable()
        if unknown:
            collector.add(
                "permissions",
                "permission_unknown",
                "Unknown permission: %(names)s.",
                names=", ".join(sorted(unknown)),
            )
        return granted

    def _check_role_agency(
        self, uow: UnitOfWork, role: str, agency_id: int | None, collector: Collector
    ) -> int | None:
        decl = self._d.policy.roles.get(role)
        if decl is None or not decl.staff or role == Role.SUPER_ADMIN:
            collector.add("role", "role_unknown", "Choose the admin or operator level.")
            return None
        if decl.bound_to_agency:
            if agency_id is None:
                collector.add(
                    "agency_id", "agency_required", "An operator belongs to an agency: choose one."
                )
                return None
            agency = uow.directory.agency(agency_id)
            if agency is None or not agency.is_active:
                collector.add("agency_id", "agency_unknown", "Choose an agency.")
            return agency_id
        return None


@attrs.frozen
class _Checked:
    email: str
    username: str | None
    full_name: str
    agency_id: int | None
    permissions: frozenset[str]


class StaffMixin(AdminBase):
    """Creating admin and operator accounts."""

    def _check_staff(self, data: StaffInput, *, with_password: bool) -> _Checked:
        collector = Collector()
        email = collector.check(normalize_email, data.email)
        username = None
        if isinstance(data.username, str) and data.username.strip():
            username = collector.check(normalize_username, data.username)
        full_name = collector.check(
            clean_text, data.full_name, "full_name", max_length=LIMITS["full_name"]
        )
        if with_password:
            collector.check(
                check_password,
                data.password,
                data.password,
                personal=(username or "", email or ""),
            )
        permissions = self._check_permissions(data.permissions, collector)
        agency_id = None
        if data.agency_id not in (None, ""):
            agency_id = collector.check(check_id, data.agency_id, "agency_id")
        collector.raise_if_any()
        assert email and full_name
        return _Checked(email, username, full_name, agency_id, permissions)

    def _add_staff(
        self,
        uow: UnitOfWork,
        events: EventRecorder,
        actor: Actor,
        data: StaffInput,
        checked: _Checked,
        password_hash: str,
        *,
        must_change_password: bool = False,
    ) -> Account:
        """Insert the account (field errors for a taken address or username)."""
        errors = Collector()
        bound_agency = self._check_role_agency(uow, data.role, checked.agency_id, errors)
        username = checked.username
        taken = uow.accounts.clashes(email=checked.email, username=username)
        if "email" in taken:
            errors.add("email", "email_taken", "An account with this e-mail already exists.")
        if "username" in taken:
            errors.add("username", "username_taken", "This username is already taken.")
        errors.raise_if_any()
        if username is None:
            username = next(
                name
                for name in username_candidates(checked.email)
                if not uow.accounts.clashes(username=name)
            )
        now = self._d.clock.now()
        agency = uow.directory.agency(bound_agency) if bound_agency is not None else None
        granted = checked.permissions | self._default_permissions(
            data.role, agency.code if agency else None
        )
        account = uow.accounts.add(
            NewAccount(
                email=checked.email,
                username=username,
                full_name=checked.full_name,
                role=data.role,
                password_hash=password_hash,
                created_at=now,
                language=self._d.settings.default_language,
                agency_id=bound_agency,
                permissions=granted,
                # the super admin vouches for the address
                email_verified_at=now,
                must_change_password=must_change_password,
            )
        )
        events.record(
            StaffAccountCreated(
                account_id=account.id,
                role=account.role,
                agency_id=account.agency_id,
                created_by=actor.account_id,
                at=now,
            )
        )
        return account

    async def create_staff(self, ctx: Context, data: StaffInput) -> Account:
        """Create an admin or operator account with a password the super admin
        typed; with ``data.must_change_password`` its owner must change it at the
        first log-in."""
        actor = self._require(ctx)
        checked = self._check_staff(data, with_password=True)
        password_hash = await self._d.hasher.hash_async(data.password)
        return await run_write(
            self._d,
            lambda uow, events: self._add_staff(
                uow,
                events,
                actor,
                data,
                checked,
                password_hash,
                must_change_password=data.must_change_password,
            ),
        )

    async def invite_staff(self, ctx: Context, data: StaffInput) -> Account:
        """Create an admin or operator account without a password and mail its
        owner a link to set one (``StaffInvited``)."""
        actor = self._require(ctx)
        checked = self._check_staff(data, with_password=False)

        def script(uow: UnitOfWork, events: EventRecorder) -> Account:
            account = self._add_staff(uow, events, actor, data, checked, "")
            self._invite(uow, events, account)
            return account

        return await run_write(self._d, script)

    def _invite(self, uow: UnitOfWork, events: EventRecorder, account: Account) -> None:
        now = self._d.clock.now()
        token, expires = issue_link_token(
            uow, account, TokenPurpose.INVITATION, INVITATION_TTL, now
        )
        events.record(
            StaffInvited(
                account_id=account.id,
                email=account.email,
                language=account.language,
                full_name=account.full_name,
                role=account.role,
                token=token,
                expires_at=expires,
                at=now,
            )
        )
