"""The pure domain of Aspirasi: entities, status machine, role policy, validation.

Imports only the standard library, attrs, email-validator, python-stdnum and
phonenumbers (pure-Python data libraries: NIK and phone-number rules) — never
SQLAlchemy, Litestar or the plugins (checked by import-linter and by a
test that imports this package in a fresh interpreter).
"""

from .errors import (
    Conflict,
    DomainError,
    FieldError,
    IllegalTransition,
    Invalid,
    NotAllowed,
    NotFound,
    Throttled,
    Unauthenticated,
)
from .model import (
    Account,
    Action,
    Actor,
    Agency,
    Attachment,
    Category,
    CategoryCode,
    LogEntry,
    Message,
    Notification,
    Page,
    Rating,
    ReplacedRating,
    Reply,
    Role,
    Status,
    Subcategory,
    Visibility,
)
from .policy import MessageScope, Perm, PermissionDecl, Policy, RoleDecl, build_policy

__all__ = [
    "Account",
    "Action",
    "Actor",
    "Agency",
    "Attachment",
    "Category",
    "CategoryCode",
    "Conflict",
    "DomainError",
    "FieldError",
    "IllegalTransition",
    "Invalid",
    "LogEntry",
    "Message",
    "MessageScope",
    "NotAllowed",
    "NotFound",
    "Notification",
    "Page",
    "Perm",
    "PermissionDecl",
    "Policy",
    "Rating",
    "ReplacedRating",
    "Reply",
    "Role",
    "RoleDecl",
    "Status",
    "Subcategory",
    "Throttled",
    "Unauthenticated",
    "Visibility",
    "build_policy",
]
