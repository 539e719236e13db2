"""Read-side selectors of the case desk: the case list and its filters, the dashboard's lists, what is due,
and the people and choices the case page offers.

Every function answers from a fixed number of queries whatever the number of rows (lists are a count plus
one bounded page), and only ever over `visible_cases(user)` when the rows are confidential.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Count, ExpressionWrapper, F, OrderBy, Q, QuerySet, Value, When
from django.db.models import Case as SqlCase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.accounts.models import Role, User
from psirt.cases.access import assigned_among_visible_q, sees_every_case, visible_cases
from psirt.cases.models import Assignment, Case, CaseInvitation, CaseReport
from psirt.cases.services import workflow
from psirt.cases.services.deadlines import due_soon_q, overdue_q
from psirt.cases.services.workflow import FINISHED, CaseState
from psirt.catalog.models import FirmwareRelease, Product
from psirt.intake.models import InboxState, Message, Report

MAX_QUERY = 100
MAX_RELEASES = 2000

SORTS: dict[str, tuple[str, object, list[object]]] = {
    "newest": ("newest", _("Newest first"), [F("created_at").desc(), F("id").desc()]),
    "ack_due": (
        "ack_due",
        _("Acknowledgment due"),
        [F("ack_due_at").asc(nulls_last=True), F("id").asc()],
    ),
    "remediation_due": (
        "remediation_due",
        _("Remediation due"),
        [F("remediation_due_at").asc(nulls_last=True), F("id").asc()],
    ),
    "disclosure": ("disclosure", _("Disclosure date"), [F("disclosure_date").asc(nulls_last=True), F("id").asc()]),
    "key": ("key", _("Case number"), [F("year").asc(), F("number").asc()]),
    "next_due": ("next_due", _("Next deadline"), [F("next_due").asc(nulls_last=True), F("id").asc()]),
}
DUE_FILTERS: dict[str, object] = {"": _("Any"), "overdue": _("Overdue"), "soon": _("Due soon")}
# Main path first, then the exits: the order next steps are offered in.
STATE_ORDER = [*workflow.MAIN_PATH, *(s for s in CaseState.values if s not in workflow.MAIN_PATH)]
STATE_FILTERS: dict[str, object] = {
    "": _("All"),
    "open": _("Open"),
    "finished": _("Finished"),
    **dict(CaseState.choices),
}


# --- the case list and the dashboard ----------------------------------------------------------------------


def filter_cases(user: User, query: Mapping[str, str]) -> tuple[QuerySet[Case], dict[str, str]]:
    """The cases `user` may see, filtered and sorted by the list's parameters (`state`, `q`, `sort`, `mine`,
    `due`), and the parameters as understood (unknown values fall back to the default)."""
    params = {
        "state": query.get("state", "")[:30],
        # Control characters (NUL above all: PostgreSQL refuses it in a query) never match a title anyway.
        "q": " ".join("".join(ch for ch in query.get("q", "")[:1000] if ch.isprintable()).split())[:MAX_QUERY],
        "sort": query.get("sort", "newest")[:30],
        "mine": "1" if query.get("mine") == "1" else "",
        "due": query.get("due", "")[:10],
    }
    qs = visible_cases(user).select_related("product")
    now = timezone.now()
    if params["due"] == "overdue":
        qs = qs.filter(overdue_q(now))
    elif params["due"] == "soon":
        qs = qs.filter(due_soon_q(now))
    else:
        params["due"] = ""
    state = params["state"]
    if state == "open":
        qs = qs.exclude(state__in=[*workflow.FINISHED, CaseState.PUBLISHED])
    elif state == "finished":
        qs = qs.filter(state__in=workflow.FINISHED)
    elif state in CaseState.values:
        qs = qs.filter(state=state)
    else:
        params["state"] = ""
    if params["q"]:
        qs = qs.filter(Q(key__icontains=params["q"]) | Q(title__icontains=params["q"]))
    if params["mine"]:
        qs = qs.filter(assigned_among_visible_q(user))
    if params["sort"] not in SORTS:
        params["sort"] = "newest"
    return qs.order_by(*SORTS[params["sort"]][2]), params  # type: ignore[arg-type]


DASHBOARD_ORDER: dict[str, list[OrderBy]] = {
    "mine": [F("next_due").asc(nulls_last=True), F("id").asc()],
    "overdue": [F("next_due").asc(nulls_last=True), F("id").asc()],
    "soon": [F("next_due").asc(nulls_last=True), F("disclosure_date").asc(nulls_last=True), F("id").asc()],
    "awaiting": [F("disclosure_date").asc(nulls_last=True), F("id").asc()],
}


def _dashboard_conditions(user: User, now: dt.datetime) -> dict[str, Q]:
    """Which of the cases `user` sees each list of the dashboard holds (the keys of `DASHBOARD_ORDER`)."""
    open_cases = ~Q(state__in=[*FINISHED, CaseState.PUBLISHED])
    return {
        "mine": open_cases if user.is_engineer else open_cases & assigned_among_visible_q(user),
        "overdue": overdue_q(now),
        "soon": due_soon_q(now),
        "awaiting": Q(state=CaseState.AWAITING_DISCLOSURE),
    }


# What the dashboard shows of a case, and what its deadline badges read (`deadlines.case_due_status`): its
# lists load only these columns.
DASHBOARD_FIELDS = (
    "public_id",
    "key",
    "title",
    "state",
    "ack_due_at",
    "acknowledged_at",
    "remediation_due_at",
    "disclosure_date",
    "next_due",
)


def dashboard_querysets(user: User, now: dt.datetime) -> dict[str, QuerySet[Case]]:
    """The dashboard's lists for `user`: their open cases by next deadline (all open cases they may see, for
    a product engineer), what is overdue, what is due soon, and what awaits disclosure. Overdue and due soon
    are `psirt.cases.services.deadlines.case_due_status` in SQL (`overdue_q`, `due_soon_q`). The rows hold
    `DASHBOARD_FIELDS` only."""
    visible = visible_cases(user).only(*DASHBOARD_FIELDS)
    return {
        name: visible.filter(condition).order_by(*DASHBOARD_ORDER[name])
        for name, condition in _dashboard_conditions(user, now).items()
    }


def dashboard_counts(user: User, now: dt.datetime) -> dict[str, int]:
    """How many cases each list of `dashboard_querysets` holds. Someone who sees every case (a lead) gets
    each count from the indexes of its own condition; anyone else gets the four from one pass over the cases
    they see, which each count would otherwise read whole again."""
    conditions = _dashboard_conditions(user, now)
    visible = visible_cases(user)
    if sees_every_case(user):
        return {name: visible.filter(condition).count() for name, condition in conditions.items()}
    return {
        name: int(count or 0)
        for name, count in visible.aggregate(
            **{name: Count("pk", filter=condition) for name, condition in conditions.items()}
        ).items()
    }


def _order_column(order: OrderBy) -> str:
    """The column a dashboard order sorts by (its orders name plain columns)."""
    if not isinstance(order.expression, F):
        raise TypeError(f"the dashboard sorts by columns, not {order.expression!r}")
    return str(order.expression.name)


def dashboard_slices(
    user: User, now: dt.datetime, slices: Mapping[str, tuple[int, int]]
) -> tuple[dict[str, int], dict[str, list[Case]]]:
    """The counts of the dashboard's lists (`dashboard_counts`) and, for each list, the rows `slices[name]`
    (offset, how many) of its queryset (`dashboard_querysets`).

    A lead, and a product engineer (who sees whole product lines), see most cases: each list's rows are found
    at once by walking its own index, so each list is read on its own (a list counted empty is not read). A
    handler sees only the cases assigned to them, few of many: each list read on its own would test every case
    it could hold against their assignments again. Their counts and the ids of the slices come from one
    statement that reads their cases once (a materialized CTE with one flag per list and the sort columns),
    then the shown rows from one read by primary key."""
    if sees_every_case(user) or user.is_engineer:
        lists = dashboard_querysets(user, now)
        counts = dashboard_counts(user, now)
        return counts, {
            name: list(qs[slices[name][0] : sum(slices[name])]) if counts[name] else [] for name, qs in lists.items()
        }
    conditions = _dashboard_conditions(user, now)
    names = list(conditions)
    flags = {f"in_{name}": ExpressionWrapper(conditions[name], output_field=BooleanField()) for name in names}
    sort_columns = sorted({_order_column(o) for order in DASHBOARD_ORDER.values() for o in order} - {"id"})
    seen = visible_cases(user).order_by().annotate(**flags).values("id", *sort_columns, *flags)
    try:
        body, params = seen.query.sql_with_params()
    except EmptyResultSet:  # someone who sees no case at all (a deactivated account)
        return dict.fromkeys(names, 0), {name: [] for name in names}
    connection = connections[seen.db]
    qn = connection.ops.quote_name

    def order_sql(order: list[OrderBy]) -> str:
        return ", ".join(
            f"{qn(_order_column(o))} {'DESC' if o.descending else 'ASC'}"
            + (" NULLS LAST" if o.nulls_last else " NULLS FIRST" if o.nulls_first else "")
            for o in order
        )

    sums = ", ".join(f"SUM(CASE WHEN {qn(flag)} THEN 1 ELSE 0 END)" for flag in flags)
    zeros = ", ".join("0" for _ in flags)
    parts = [f"SELECT 0, 0, 0, {sums} FROM seen"]  # noqa: S608 — names from the model, values bound
    args: list[Any] = list(params)
    for kind, (name, flag) in enumerate(zip(names, flags, strict=True), start=1):
        order = order_sql(DASHBOARD_ORDER[name])
        parts.append(
            f"SELECT * FROM (SELECT {kind}, ROW_NUMBER() OVER (ORDER BY {order}), {qn('id')}, {zeros} FROM seen"  # noqa: S608
            f" WHERE {qn(flag)} ORDER BY {order} LIMIT %s OFFSET %s) AS {qn(f'slice_{name}')}"
        )
        start, size = slices[name]
        args += [size, start]
    # SQLite before 3.35 (Django supports 3.31) has no MATERIALIZED keyword; it may then inline the CTE in each
    # part: the same answer, read more than once.
    materialized = "" if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 35) else "MATERIALIZED "
    sql = f"WITH seen AS {materialized}({body}) " + " UNION ALL ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        result = sorted(cursor.fetchall(), key=lambda row: (row[0], row[1]))
    counts = {name: int(total or 0) for name, total in zip(names, result[0][3:], strict=True)}
    ids: dict[str, list[int]] = {name: [] for name in names}
    for kind, _position, pk, *_sums in result[1:]:
        ids[names[kind - 1]].append(pk)
    # The ids were read through `visible_cases` a moment ago (as each list's own statement would have been).
    shown = Case.objects.only(*DASHBOARD_FIELDS).in_bulk({pk for chosen in ids.values() for pk in chosen})
    return counts, {name: [shown[pk] for pk in chosen if pk in shown] for name, chosen in ids.items()}


def inbox_count() -> int:
    """Reports waiting in the inbox for triage."""
    return Report.objects.filter(inbox_state=InboxState.NEW).count()


# --- people -----------------------------------------------------------------------------------------------


def handlers_and_leads() -> list[User]:
    """Every active handler and lead (who may be assigned to a case)."""
    return list(User.objects.filter(is_active=True, role__in=[Role.HANDLER, Role.LEAD]).order_by("name", "email"))


def assignable_people(case: Case) -> list[User]:
    """Active handlers and leads not yet assigned to the case."""
    return list(
        User.objects.filter(is_active=True, role__in=[Role.HANDLER, Role.LEAD])
        .exclude(assignments__case=case)
        .order_by("name", "email")
    )


def invitable_engineers(case: Case) -> list[User]:
    """Active product engineers not yet invited to the case."""
    return list(
        User.objects.filter(is_active=True, role=Role.ENGINEER)
        .exclude(case_invitations__case=case)
        .order_by("name", "email")
    )


def case_people(case: Case) -> list[User]:
    """Everyone with need-to-know of the case: leads, its handlers, its invited engineers (work item owners).
    Subqueries of the case's own rows, not joins: a join with every case's assignments grows with the desk
    (and needs DISTINCT)."""
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(role=Role.LEAD)
            | Q(pk__in=Assignment.objects.filter(case=case).values("user_id"))
            | Q(pk__in=CaseInvitation.objects.filter(case=case).values("engineer_id"))
            | Q(
                role=Role.ENGINEER,
                pk__in=User.product_lines.through.objects.filter(productline_id=case.product_line_id or 0).values(
                    "user_id"
                ),
            )
        )
        .order_by("name", "email")
    )


# --- the case page ----------------------------------------------------------------------------------------


def case_report_links(case: Case) -> list[CaseReport]:
    """The case's report links with their reports (one query), its own reports first, then duplicates, oldest
    first within each."""
    return list(case.case_reports.select_related("report").order_by("is_duplicate", "added_at", "pk"))


def case_reports(case: Case) -> list[Report]:
    """The case's reports, in the order of `case_report_links`."""
    return [link.report for link in case_report_links(case)]


def case_conversation(reports: Sequence[Report], *, notes: bool = True) -> tuple[list[Message], list[Message]]:
    """Messages with the reporters and internal notes (none unless `notes`) of these reports (a case's), oldest
    first: one query for the messages, one for their files. Each message's `report` is the instance given, so
    no report is read (and decrypted) again per message."""
    by_pk = {report.pk: report for report in reports}
    rows = Message.objects.filter(report_id__in=by_pk).select_related("author").order_by("created_at", "id")
    if not notes:
        rows = rows.filter(is_internal=False)
    with_reporter: list[Message] = []
    internal: list[Message] = []
    for m in rows.prefetch_related("attachments"):
        m.report = by_pk[m.report_id]
        (internal if m.is_internal else with_reporter).append(m)
    return with_reporter, internal


@dataclass(frozen=True)
class ReleaseChoice:
    """One release the range pickers offer — a plain row: a big catalog must not cost a model instance per
    option on every case page."""

    public_id: str
    version: str
    variant: str
    release_date: dt.date | None
    product_name: str


def range_scope(case: Case) -> QuerySet[Product]:
    """The products an affected range of this case may name: those of the case's product line (its product's
    line when only the product is set) — a vulnerability in shared firmware reaches the line's other models,
    never another line's. Every product when the case names neither. The case's own product comes first."""
    line_id = case.product_line_id or (case.product.line_id if case.product_id and case.product else None)
    products = Product.objects.all()
    if line_id:
        products = products.filter(line_id=line_id)
    own = case.product_id or 0
    return products.annotate(own=SqlCase(When(pk=own, then=Value(0)), default=Value(1))).order_by(
        "own", "line__position", "name"
    )


def range_choices(case: Case) -> tuple[list[tuple[str, str]], list[ReleaseChoice]]:
    """(slug, name) of the products in the case's range scope (`range_scope`) and the releases of those
    products, the case's product first, each product's releases newest first."""
    scope = range_scope(case)
    products = list(scope.values_list("slug", "name"))
    order = {name: i for i, (_slug, name) in enumerate(products)}
    rows = FirmwareRelease.objects.filter(product__in=scope.values("pk")).values_list(
        "public_id", "version", "variant", "release_date", "product__name", "position"
    )[:MAX_RELEASES]
    ordered = sorted(rows, key=lambda r: (order.get(r[4], len(order)), r[4], r[2], -r[5]))
    return products, [ReleaseChoice(str(pid), v, variant, day, name) for pid, v, variant, day, name, _p in ordered]
