"""Maintenance tasks of the audit log, run by `psirt worker`. Each is idempotent: running it twice does no harm."""

from __future__ import annotations

import logging

from django_tasks import task

from psirt.audit.services import AuditChainBroken, write_checkpoint
from psirt.lib.schedule import Periodic
from psirt.lib.signing import SigningUnavailable

logger = logging.getLogger(__name__)


@task()
def verify_audit_chain() -> dict[str, object]:
    """Check the audit log's keyed hash chain, then sign its head into a checkpoint file outside the database
    (scheduled hourly). A broken chain is logged loudly and never checkpointed; without a signing key the
    check still runs and the missing checkpoint is logged."""
    try:
        checkpoint = write_checkpoint()
    except AuditChainBroken as exc:
        logger.error("audit chain broken, no checkpoint written: %s", exc.message)
        return {"ok": False, "checkpoint": None}
    except SigningUnavailable as exc:
        logger.warning("audit chain intact, but no checkpoint written: %s", exc)
        return {"ok": True, "checkpoint": None}
    except OSError as exc:
        logger.error("audit chain intact, but the checkpoint cannot be written (PSIRT_AUDIT_CHECKPOINT_DIR): %s", exc)
        return {"ok": True, "checkpoint": None}
    return {"ok": True, "checkpoint": None if checkpoint is None else checkpoint.seq}


PERIODIC = (Periodic("psirt.audit.tasks.verify_audit_chain", 60 * 60),)
