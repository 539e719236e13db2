"""Every change to reports goes through here: the web form, the API, the mail gate, the portal and the desk
call the same functions (keyword-only), which raise the domain exceptions of `psirt.intake.exceptions` and
write the audit log in the same transaction.

The package is cut along the flow of a report: `submission` (a new report and its acknowledgment),
`attachments` (files, the upload stash, downloads), `portal` (what the reporter does later), `lost_link`
(fresh private links by mail), `desk` (the team's side), with `tokens` (private tokens and portal links),
`files` (safe names and content types of uploads) and `common` (text limits, timeline events) shared by all.
Callers import from here, not from the modules.
"""

from __future__ import annotations

from psirt.intake.services.attachments import (
    STASH_LIFETIME,
    IncomingFile,
    discard_stashed,
    max_file_bytes,
    max_total_bytes,
    open_attachment,
    open_reporter_attachment,
    purge_expired,
    purge_expired_stashes,
    stash_files,
    stashed_files,
    sweep_files,
)
from psirt.intake.services.common import TEXT_LIMITS
from psirt.intake.services.desk import (
    DescriptionForStaff,
    description_for_staff,
    mark_taken,
    notify_reporter,
    post_team_message,
    record_staff_view,
    set_agreed_disclosure_date,
    set_stage,
)
from psirt.intake.services.lost_link import reissue_links, request_new_link
from psirt.intake.services.portal import add_reporter_message, propose_disclosure_date, set_credit
from psirt.intake.services.submission import (
    ReportInput,
    Submission,
    format_tracking_id,
    submit_report,
)
from psirt.intake.services.tokens import (
    EMAIL_HASH_PURPOSE,
    MAGIC_MAX_AGE,
    MAGIC_SALT,
    TOKEN_BYTES,
    TOKEN_RE,
    email_hash,
    find_report_by_token,
    hash_token,
    magic_token,
    magic_url,
    new_token,
    normalise_email,
    portal_path,
    portal_url,
)

__all__ = [
    "EMAIL_HASH_PURPOSE",
    "MAGIC_MAX_AGE",
    "MAGIC_SALT",
    "STASH_LIFETIME",
    "TEXT_LIMITS",
    "TOKEN_BYTES",
    "TOKEN_RE",
    "DescriptionForStaff",
    "IncomingFile",
    "ReportInput",
    "Submission",
    "add_reporter_message",
    "description_for_staff",
    "discard_stashed",
    "email_hash",
    "find_report_by_token",
    "format_tracking_id",
    "hash_token",
    "magic_token",
    "magic_url",
    "mark_taken",
    "max_file_bytes",
    "max_total_bytes",
    "new_token",
    "normalise_email",
    "notify_reporter",
    "open_attachment",
    "open_reporter_attachment",
    "portal_path",
    "portal_url",
    "post_team_message",
    "propose_disclosure_date",
    "purge_expired",
    "purge_expired_stashes",
    "record_staff_view",
    "reissue_links",
    "request_new_link",
    "set_agreed_disclosure_date",
    "set_credit",
    "set_stage",
    "stash_files",
    "stashed_files",
    "submit_report",
    "sweep_files",
]
