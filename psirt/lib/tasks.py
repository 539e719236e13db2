"""Maintenance tasks run by `psirt worker`. Each is idempotent: running it twice does no harm."""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def verify_audit_chain() -> dict[str, object]:
    """Check the audit log's hash chain and log loudly when it is broken (schedule it, e.g. hourly)."""
    from psirt.audit.services import verify_chain

    report = verify_chain()
    if not report.ok:
        logger.error("audit chain broken at event #%s: %s", report.first_bad_seq, report.problem)
    return {"ok": report.ok, "checked": report.checked, "first_bad_seq": report.first_bad_seq}
