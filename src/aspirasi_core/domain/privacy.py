"""Who may know who sent a message: the one rule behind every read of the core.

An anonymous message's sender is known to the sender alone. Every other reader
— admins, agency operators, monitors, evaluators, the super admin in normal
views — gets the message with nothing that identifies the sender or ties the
message to the sender's other messages: no author (``Message.author_id`` is
None), no sender details, and no actor on the log entries the sender wrote
(submitting, withdrawing). The query use cases apply :func:`redact_message`
and :func:`redact_log` to what they return, so pages, API answers, exports and
plugins never see the sender in the first place. The only way past it is the
super admin's audited reveal (``app.privacy.reveal_sender``).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .model import Actor, LogEntry, Message


def sender_hidden(message: Message, reader: Actor | None) -> bool:
    """Whether ``reader`` may not know who sent ``message`` (the stored message,
    not one already redacted): it is anonymous and the reader is not its sender."""
    return message.anonymous and (reader is None or reader.account_id != message.author_id)


def redact_message(message: Message, reader: Actor | None) -> Message:
    """``message`` as ``reader`` may see it: without its author when hidden."""
    if not sender_hidden(message, reader):
        return message
    return attrs.evolve(message, author_id=None)


def redact_log(
    entries: Iterable[LogEntry], message: Message, reader: Actor | None
) -> tuple[LogEntry, ...]:
    """The log of ``message`` (the stored message) as ``reader`` may see it: the
    entries its sender wrote lose their actor when the sender is hidden."""
    if not sender_hidden(message, reader) or message.author_id is None:
        return tuple(entries)
    author = message.author_id
    return tuple(attrs.evolve(e, actor_id=None) if e.actor_id == author else e for e in entries)


def author_of(message: Message) -> int:
    """The sender's account id of a stored message; ``ValueError`` for a message
    as a reader got it without its sender (such a copy must not be acted on)."""
    if message.author_id is None:
        raise ValueError(f"message {message.id} was read without its sender")
    return message.author_id
