"""Every change to an advisory: keyword-only functions, audited in the same transaction.

Views, the API, the CLI and the background task call these; they check who may act, raise domain exceptions
(`psirt.advisories.exceptions`) and enforce the publication policy (`psirt.advisories.services.policy`).

The package follows an advisory's life: `inputs` (who may act, cleaning what authors type), `authoring`
(drafts, edits, the open revision of a published advisory), `review` (review and approval, of a first
publication and of a revision alike), `publication` (the policy gate, CSAF documents, notices, scheduled
publication, publishing a revision), `withdrawal`. Callers import from here, not from the modules.
"""

from __future__ import annotations

from psirt.advisories.services.authoring import (
    EXPLOITATION_RANK,
    create_advisory,
    discard_revision,
    format_advisory_id,
    update_advisory,
)
from psirt.advisories.services.facts import override_fact, remove_override, revise_to_match
from psirt.advisories.services.inputs import (
    EDITABLE_FIELDS,
    MAX_LIST_ITEMS,
    MAX_REASON,
    MAX_SUMMARY,
    MAX_TEXT,
    MAX_TITLE,
    TEXT_FIELDS,
    AffectedInput,
    affected_from_json,
    current_affected,
)
from psirt.advisories.services.policy import public_conditions
from psirt.advisories.services.policy_settings import (
    MAX_TRIGGER,
    MAX_TRIGGERS,
    POLICY_SETTINGS,
    current_policy,
    policy_settings,
    set_publication_policy,
)
from psirt.advisories.services.publication import (
    cancel_schedule,
    case_facts_of,
    check_facts,
    check_publication,
    csaf_documents_for_publication,
    facts_differences,
    open_revision,
    publication_date_for,
    publish_advisory,
    publish_due_advisories,
    publish_if_due,
    publish_revision,
    revised_advisory,
    schedule_publication,
)
from psirt.advisories.services.review import (
    approval_refusal,
    approve_advisory,
    approve_expedite,
    expedite_refusal,
    return_to_draft,
    set_expedite_justification,
    submit_for_review,
)
from psirt.advisories.services.withdrawal import withdraw_advisory

__all__ = [
    "EDITABLE_FIELDS",
    "EXPLOITATION_RANK",
    "MAX_LIST_ITEMS",
    "MAX_REASON",
    "MAX_SUMMARY",
    "MAX_TEXT",
    "MAX_TITLE",
    "MAX_TRIGGER",
    "MAX_TRIGGERS",
    "POLICY_SETTINGS",
    "TEXT_FIELDS",
    "AffectedInput",
    "affected_from_json",
    "approval_refusal",
    "approve_advisory",
    "approve_expedite",
    "cancel_schedule",
    "case_facts_of",
    "check_facts",
    "check_publication",
    "create_advisory",
    "csaf_documents_for_publication",
    "current_affected",
    "current_policy",
    "discard_revision",
    "expedite_refusal",
    "facts_differences",
    "format_advisory_id",
    "open_revision",
    "override_fact",
    "policy_settings",
    "public_conditions",
    "publication_date_for",
    "publish_advisory",
    "publish_due_advisories",
    "publish_if_due",
    "publish_revision",
    "remove_override",
    "return_to_draft",
    "revise_to_match",
    "revised_advisory",
    "schedule_publication",
    "set_expedite_justification",
    "set_publication_policy",
    "submit_for_review",
    "update_advisory",
    "withdraw_advisory",
]
