"""What a sender gets and what it may raise: the contract between the outbox
(notifications.outbox) and the senders (its log sender, notifications.aliyun).

A message travels as its kind and its parameters (what SMS providers want: a
registered template per kind, filled with the parameters) and as the text rendered
in the recipient's language (for e-mail and the log). `outbound_params` cleans the
parameters once, when the message is queued: the recipient's phone is the
destination only, so a number that looks like a resident ID or a mobile phone in a
parameter (a reason an officer typed, say) is masked before it is stored or sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from community.core.crypto import mask_id_number, mask_phone

# An 18-character resident ID (or the old 15-digit one) and a mainland mobile
# number, standing alone in a text (not inside a longer run of digits).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")


class SenderNotConfigured(RuntimeError):
    """The configured sender cannot be built (an unknown SMS_PROVIDER, a provider's
    missing setting): raised before any message is claimed; its text names the
    setting, never a value."""


class SendError(Exception):
    """A sender's failure whose text is safe to store and log (`last_error`): a
    provider's error code and message, a missing template. Never an address, a
    secret or a signed URL. Other exceptions are recorded by class name only."""


@dataclass(frozen=True)
class Delivery:
    """What a sender gets: the message (`kind` and `params` for a provider's
    template, `body` rendered for e-mail and the log) and the recipient's address
    (`to`: the phone for sms). `to` is personal data: never log it in clear (it is
    left out of repr)."""

    id: int
    user_id: int
    channel: str
    body: str
    key: str
    attempt: int
    to: str | None = field(default=None, repr=False)
    kind: str | None = None
    params: dict[str, Any] | None = None


def scrub(text: str) -> str:
    """`text` with each ID number and mobile number in it masked."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(1)), text)
    return _PHONE.sub(lambda m: mask_phone(m.group(1)), text)


def outbound_params(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """The parameters a message may carry: text values scrubbed (see the module
    doc), numbers as they are, anything else as its text; None when empty."""
    if not params:
        return None
    clean: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            value = scrub(str(value))
        clean[str(name)] = value
    return clean
