"""Maintenance tasks of the audit log, run by `psirt worker`. Each is idempotent: running it twice does no harm."""

from __future__ import annotations

import logging

from django_tasks import task

from psirt.audit.services import verify_chain
from psirt.lib.schedule import Periodic

logger = logging.getLogger(__name__)


@task()
def verify_audit_chain() -> dict[str, object]:
    """Check the audit log's hash chain and log loudly when it is broken (scheduled hourly)."""
    report = verify_chain()
    if not report.ok:
        logger.error("audit chain broken at event #%s: %s", report.first_bad_seq, report.problem)
    return {"ok": report.ok, "checked": report.checked, "first_bad_seq": report.first_bad_seq}


PERIODIC = (Periodic("psirt.audit.tasks.verify_audit_chain", 60 * 60),)
