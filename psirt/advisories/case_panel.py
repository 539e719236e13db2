"""The advisories' answers to the case page (registered with `psirt.cases.advisories_hook` at start-up):
which advisories were written from a case, and whether the viewer may start one from it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from psirt.accounts.models import User
from psirt.advisories.access import can_author_from, visible_advisories
from psirt.advisories.models import Advisory
from psirt.advisories.services.case_facts import AUTHORABLE_STATES
from psirt.cases.advisories_hook import LinkedAdvisory
from psirt.cases.models import Case


def case_advisories(case: Case, user: Any) -> list[LinkedAdvisory]:
    """The case's advisories the viewer may know of: those they may open on the desk (linked there), and the
    published ones (public anyway; linked to the public page). Two queries."""
    advisories = list(Advisory.objects.filter(case_links__case=case).order_by("created_at").distinct())
    visible = set(visible_advisories(user).filter(pk__in=[a.pk for a in advisories]).values_list("pk", flat=True))
    rows = []
    for advisory in advisories:
        if advisory.pk in visible:
            url = reverse("desk:advisories:detail", args=[advisory.public_id])
        elif advisory.is_public:
            url = advisory.get_absolute_url()
        else:
            continue
        rows.append(
            LinkedAdvisory(
                advisory_id=advisory.advisory_id,
                title=advisory.title,
                state=str(advisory.get_state_display()),
                url=url,
            )
        )
    return rows


def may_write_from(case: Case, user: Any) -> bool:
    """Leads and the case's handlers, once the case is confirmed (the states an advisory may be drafted in)."""
    return (
        isinstance(user, User)
        and not user.is_engineer
        and case.state in AUTHORABLE_STATES
        and can_author_from(user, case)
    )
