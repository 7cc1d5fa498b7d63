"""
The public ledger of moderation outcomes: how many signatures are in each
state, read from the exact counters (`SignatureCounter`), never naming anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from signatures.models import Letter, Signature, SignatureCounter

State = Signature.State


@dataclass(frozen=True)
class LedgerRow:
    key: str
    label: str | Promise
    help: str | Promise
    value: int
    is_part: bool = False  # a subset of the row above it


# (counter key, label, explanation, is a subset of the row above)
_ROWS = [
    (
        SignatureCounter.state_key(State.SUBMITTED),
        _("Awaiting email confirmation"),
        _("Signed but not yet confirmed by the link we emailed. Never counted; purged if never confirmed."),
        False,
    ),
    (
        SignatureCounter.state_key(State.CONFIRMED),
        _("Confirmed, awaiting a moderator"),
        _("The signer confirmed their email address; a moderator has not decided yet. Not counted yet."),
        False,
    ),
    (
        SignatureCounter.HELD,
        _("of which held for verification"),
        _("Names likely to be impersonated, or many signatures from one network or email domain."),
        True,
    ),
    (
        SignatureCounter.state_key(State.APPROVED),
        _("Approved and counted"),
        _("The public count. Only those who agreed are named on the list."),
        False,
    ),
    (
        SignatureCounter.ADDED_BY_ORGANIZERS,
        _("of which added by organizers with recorded consent"),
        _(
            "Gathered before the letter was online (by agents, guilds, unions) and added by the organizers, "
            "who hold each person's consent. Checked against the watchlist and moderated like the others."
        ),
        True,
    ),
    (
        SignatureCounter.state_key(State.REJECTED),
        _("Rejected"),
        _("Not eligible, duplicates under another address, or fake."),
        False,
    ),
    (
        SignatureCounter.rejected_key(Signature.RejectionCategory.FRAUD),
        _("of which removed as fraudulent"),
        _("Impersonations and automated or fake signatures, removed one by one or in bulk."),
        True,
    ),
    (
        SignatureCounter.state_key(State.WITHDRAWN),
        _("Withdrawn by their signers"),
        _("People who withdrew; their personal data was erased."),
        False,
    ),
]


def ledger_for(letter: Letter) -> list[LedgerRow]:
    """The ledger's rows for one letter, in one query."""
    values = SignatureCounter.values_for(letter)
    return [
        LedgerRow(key=key, label=label, help=help_text, value=values.get(key, 0), is_part=is_part)
        for key, label, help_text, is_part in _ROWS
    ]
