"""
Every change to a signature's or a letter's state happens here: one verb
each, one transaction each, keyword-only. Views, admin actions, commands and
tasks only call these, as `services.sign_letter(...)`.
"""

from .counting import recount_letter, save_counted
from .letters import (
    NothingToPublish,
    create_invitation,
    ensure_letter_version,
    launch_due_letters,
    launch_letter,
    publish_letter_version,
    record_letter_delivery,
    revoke_invitations,
    set_letter_paused,
)
from .moderation import (
    INVALIDATABLE_STATES,
    InvalidationCriteriaMissing,
    approve_signatures,
    flag_surges,
    invalidate_signatures,
    mark_notable,
    mark_verified,
    recheck_watchlist,
    reject_signatures,
    retry_failed_emails,
    review_surge_flags,
    set_digest_subscription,
    signatures_to_invalidate,
    verify_approve_and_mark_notable,
)
from .privacy import (
    ERASED_ON_WITHDRAWAL,
    drop_old_ip_hashes,
    erase_address,
    purge_expired_signatures,
    request_withdrawal,
    withdraw_signature,
)
from .signing import (
    SigningClosed,
    SignOutcome,
    confirm_signature,
    find_signature_for_token,
    hash_ip,
    reaffirm_signature,
    record_caught_submission,
    sign_letter,
)

__all__ = [
    "ERASED_ON_WITHDRAWAL",
    "INVALIDATABLE_STATES",
    "InvalidationCriteriaMissing",
    "NothingToPublish",
    "SignOutcome",
    "SigningClosed",
    "approve_signatures",
    "confirm_signature",
    "create_invitation",
    "drop_old_ip_hashes",
    "ensure_letter_version",
    "erase_address",
    "find_signature_for_token",
    "flag_surges",
    "hash_ip",
    "invalidate_signatures",
    "launch_due_letters",
    "launch_letter",
    "mark_notable",
    "mark_verified",
    "publish_letter_version",
    "purge_expired_signatures",
    "reaffirm_signature",
    "recheck_watchlist",
    "record_caught_submission",
    "record_letter_delivery",
    "recount_letter",
    "reject_signatures",
    "request_withdrawal",
    "retry_failed_emails",
    "review_surge_flags",
    "revoke_invitations",
    "save_counted",
    "set_digest_subscription",
    "set_letter_paused",
    "sign_letter",
    "signatures_to_invalidate",
    "verify_approve_and_mark_notable",
    "withdraw_signature",
]
