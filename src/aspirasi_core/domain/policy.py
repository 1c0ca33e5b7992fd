"""The role policy: one table of permission → roles, plus scope rules.

Access is decided in two steps. :meth:`Policy.allows` answers "may this kind of
account do this at all?" from the table (or from permissions granted to the
account). The scope rules (:func:`can_read`, :func:`check_can_act`) answer
"…on this very message?": an operator only inside its agency, a citizen only on
its own messages, a plugin-declared :class:`MessageScope` for read-only
monitors. The web layer answers a message outside the reader's scope with 404,
so ids reveal nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from .errors import NotAllowed, NotFound
from .model import Action, Actor, Message, Role, Status


class Perm:
    """Permission names of the core. Plugins add their own, namespaced (``land_issue.monitor``)."""

    MESSAGE_SUBMIT = "message.submit"
    MESSAGE_WITHDRAW = "message.withdraw"
    MESSAGE_RATE = "message.rate"
    MESSAGE_READ_OWN = "message.read_own"
    MESSAGE_READ_ALL = "message.read_all"
    MESSAGE_READ_AGENCY = "message.read_agency"
    MESSAGE_CLASSIFY = "message.classify"
    MESSAGE_HANDLE = "message.handle"
    BACKOFFICE = "backoffice.access"
    NOTIFICATIONS = "notifications.read"
    ADMIN_MANAGE = "admin.manage"
    #: Read the audit log (super admin only).
    AUDIT_READ = "audit.read"
    #: Reveal the sender of an anonymous message, with a reason (super admin only).
    PRIVACY_REVEAL = "privacy.reveal"
    #: See the oversight reviews opened by poor ratings and reopen a done message.
    OVERSIGHT = "oversight.review"


@attrs.frozen
class RoleDecl:
    """A role (account level) as declared by the core or a plugin."""

    name: str
    label: str
    staff: bool = True
    bound_to_agency: bool = False


@attrs.frozen
class PermissionDecl:
    """A permission: which roles hold it, and whether a super admin may grant it to one account."""

    name: str
    description: str
    roles: frozenset[str] = frozenset()
    grantable: bool = False
    #: Other permissions (the core's, or another plugin's) that whoever holds this
    #: one holds as well: the evaluator's ``evaluator.evaluate`` brings
    #: ``oversight.review``.
    implies: frozenset[str] = frozenset()


CORE_ROLES: tuple[RoleDecl, ...] = (
    RoleDecl(Role.SUPER_ADMIN, "Super Admin", staff=True),
    RoleDecl(Role.ADMIN, "Admin", staff=True),
    RoleDecl(Role.OPERATOR, "Operator", staff=True, bound_to_agency=True),
    RoleDecl(Role.USER, "User", staff=False),
)

_U = frozenset({Role.USER})
_A = frozenset({Role.ADMIN})
_O = frozenset({Role.OPERATOR})

#: The core's permission table. The super admin holds every permission and is not listed.
CORE_PERMISSIONS: tuple[PermissionDecl, ...] = (
    PermissionDecl(Perm.MESSAGE_SUBMIT, "Send a message", _U),
    PermissionDecl(Perm.MESSAGE_WITHDRAW, "Withdraw one's own message while submitted", _U),
    PermissionDecl(Perm.MESSAGE_RATE, "Rate one's own message once it is done", _U),
    PermissionDecl(Perm.MESSAGE_READ_OWN, "Read one's own messages", _U),
    PermissionDecl(Perm.MESSAGE_READ_ALL, "Read every message", _A),
    PermissionDecl(Perm.MESSAGE_READ_AGENCY, "Read the messages forwarded to one's agency", _O),
    PermissionDecl(Perm.MESSAGE_CLASSIFY, "Classify, forward, re-forward and reject messages", _A),
    PermissionDecl(Perm.MESSAGE_HANDLE, "Confirm, update and reply to one's agency's messages", _O),
    PermissionDecl(Perm.BACKOFFICE, "Enter the back office", _A | _O),
    PermissionDecl(Perm.NOTIFICATIONS, "Receive in-app notifications", _A | _O),
    PermissionDecl(Perm.ADMIN_MANAGE, "Manage accounts, agencies and categories", frozenset()),
    PermissionDecl(Perm.AUDIT_READ, "Read the audit log of personal-data reads", frozenset()),
    PermissionDecl(
        Perm.PRIVACY_REVEAL, "Reveal the sender of an anonymous message (audited)", frozenset()
    ),
    PermissionDecl(
        Perm.OVERSIGHT, "Review poorly rated messages and reopen them for the agency", _A
    ),
)


@attrs.frozen
class MessageScope:
    """A read-only window onto messages an actor does not own.

    A message is inside the scope when it matches every field that is not None.
    Plugins return scopes from ``aspirasi_visibility_scopes``; storage turns the
    same fields into a SQL filter, so listing and detail agree.
    """

    name: str
    category_ids: frozenset[int] | None = None
    subcategory_ids: frozenset[int] | None = None
    agency_ids: frozenset[int] | None = None
    statuses: frozenset[Status] | None = None

    def matches(self, message: Message) -> bool:
        """True when ``message`` lies inside this scope."""
        if message.status is Status.WITHDRAWN:
            return False
        checks = (
            (self.category_ids, message.category_id),
            (self.subcategory_ids, message.subcategory_id),
            (self.agency_ids, message.agency_id),
        )
        for allowed, value in checks:
            if allowed is not None and value not in allowed:
                return False
        return self.statuses is None or message.status in self.statuses


@attrs.frozen
class Policy:
    """Who may do what. Build one with :func:`build_policy`."""

    roles: Mapping[str, RoleDecl]
    permissions: Mapping[str, PermissionDecl]
    #: permission → the permissions that imply it (:attr:`PermissionDecl.implies`).
    implied_by: Mapping[str, frozenset[str]] = attrs.field(factory=dict)

    def allows(self, actor: Actor | None, permission: str) -> bool:
        """May ``actor`` use ``permission`` at all (before any scope rule)?"""
        if actor is None or not actor.active:
            return False
        if permission not in self.permissions:
            raise KeyError(f"unknown permission {permission!r}")
        if not actor.verified:
            return False
        if actor.role == Role.SUPER_ADMIN:
            return True
        return self._holds(actor, permission) or any(
            self._holds(actor, other) for other in self.implied_by.get(permission, ())
        )

    def _holds(self, actor: Actor, permission: str) -> bool:
        decl = self.permissions[permission]
        # Only grantable permissions count when held by one account: a stray
        # grant of a core permission in the database gives nothing.
        return actor.role in decl.roles or (decl.grantable and permission in actor.permissions)

    def require(self, actor: Actor | None, permission: str) -> None:
        """Raise :class:`NotAllowed` unless :meth:`allows`."""
        if not self.allows(actor, permission):
            raise NotAllowed(
                "You are not allowed to do this.",
                code="forbidden",
                params={"permission": permission},
            )

    def grantable(self) -> frozenset[str]:
        """Permissions a super admin may grant to single accounts."""
        return frozenset(p.name for p in self.permissions.values() if p.grantable)

    def is_staff_role(self, role: str) -> bool:
        decl = self.roles.get(role)
        return bool(decl and decl.staff)

    def can_read(
        self, actor: Actor | None, message: Message, scopes: Iterable[MessageScope] = ()
    ) -> bool:
        """Is ``message`` visible to ``actor``? Withdrawn messages are visible to no one."""
        if not _readable_by(actor, message):
            return False
        assert actor is not None
        return message.author_id == actor.account_id or self.reads_internal(actor, message, scopes)

    def reads_internal(
        self, actor: Actor | None, message: Message, scopes: Iterable[MessageScope] = ()
    ) -> bool:
        """May ``actor`` read ``message`` as staff — and with it the texts marked
        internal (:class:`~.model.Visibility`)? Its sender reads only the texts
        meant for them."""
        if not _readable_by(actor, message):
            return False
        assert actor is not None
        if self.allows(actor, Perm.MESSAGE_READ_ALL):
            return True
        if (
            self.allows(actor, Perm.MESSAGE_READ_AGENCY)
            and message.agency_id is not None
            and message.agency_id == actor.agency_id
        ):
            return True
        return any(scope.matches(message) for scope in scopes)

    def check_can_act(self, actor: Actor | None, message: Message, action: Action) -> None:
        """Raise unless ``actor`` may perform ``action`` on ``message`` (scope included).

        Raises :class:`NotFound` when the actor may not even see the message and
        :class:`NotAllowed` when it may see it but not act.
        """
        permission = ACTION_PERMISSIONS[action]
        self.check_permission_on(actor, message, permission)

    def check_permission_on(self, actor: Actor | None, message: Message, permission: str) -> None:
        """Like :meth:`check_can_act`, for a permission rather than a status action."""
        if actor is None or not self.allows(actor, permission):
            raise NotAllowed(
                "You are not allowed to do this.",
                code="forbidden",
                params={"permission": permission},
            )
        if permission in OWNER_PERMISSIONS:
            # Owner actions stay the owner's, whatever the level of the actor.
            if message.author_id != actor.account_id:
                raise NotFound("The message was not found.", code="message_not_found")
            return
        if actor.role == Role.SUPER_ADMIN:
            return
        if permission == Perm.MESSAGE_HANDLE and (
            actor.agency_id is None or message.agency_id != actor.agency_id
        ):
            raise NotFound("The message was not found.", code="message_not_found")


def _readable_by(actor: Actor | None, message: Message) -> bool:
    """The conditions every reader meets: an active, verified account, and a
    message that was not withdrawn."""
    return (
        actor is not None
        and actor.active
        and actor.verified
        and message.status is not Status.WITHDRAWN
    )


#: Which permission each action needs.
ACTION_PERMISSIONS: Mapping[Action, str] = {
    Action.SUBMIT: Perm.MESSAGE_SUBMIT,
    Action.FORWARD: Perm.MESSAGE_CLASSIFY,
    Action.REFORWARD: Perm.MESSAGE_CLASSIFY,
    Action.REJECT: Perm.MESSAGE_CLASSIFY,
    Action.WITHDRAW: Perm.MESSAGE_WITHDRAW,
    Action.START: Perm.MESSAGE_HANDLE,
    Action.PROGRESS: Perm.MESSAGE_HANDLE,
    Action.REPLY: Perm.MESSAGE_HANDLE,
    Action.RETURN: Perm.MESSAGE_HANDLE,
    Action.REOPEN: Perm.OVERSIGHT,
}

#: Permissions that act only on the actor's own messages.
OWNER_PERMISSIONS = frozenset({Perm.MESSAGE_WITHDRAW, Perm.MESSAGE_RATE, Perm.MESSAGE_READ_OWN})


class PolicyError(ValueError):
    """A plugin declared a role or permission that clashes with an existing one."""


def build_policy(
    extra_roles: Iterable[RoleDecl] = (), extra_permissions: Iterable[PermissionDecl] = ()
) -> Policy:
    """The core table plus what plugins declare; refuses duplicates and unknown roles."""
    roles: dict[str, RoleDecl] = {r.name: r for r in CORE_ROLES}
    for role in extra_roles:
        if role.name in roles:
            raise PolicyError(f"role {role.name!r} is declared twice")
        roles[role.name] = role
    permissions: dict[str, PermissionDecl] = {p.name: p for p in CORE_PERMISSIONS}
    for perm in extra_permissions:
        if perm.name in permissions:
            raise PolicyError(f"permission {perm.name!r} is declared twice")
        unknown = perm.roles - roles.keys()
        if unknown:
            raise PolicyError(f"permission {perm.name!r} names unknown roles {sorted(unknown)}")
        permissions[perm.name] = perm
    implied_by: dict[str, set[str]] = {}
    for perm in permissions.values():
        for other in perm.implies:
            if other not in permissions:
                raise PolicyError(f"permission {perm.name!r} implies unknown {other!r}")
            implied_by.setdefault(other, set()).add(perm.name)
    return Policy(
        roles=roles,
        permissions=permissions,
        implied_by={k: frozenset(v) for k, v in implied_by.items()},
    )
