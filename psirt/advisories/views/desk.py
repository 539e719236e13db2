"""Desk pages for advisories: list, start from cases, edit, preview, and the workflow actions.

Access: leads see every advisory, handlers those of their cases; to anyone else (product engineers, other
handlers) an advisory does not exist — 404, audited (`psirt.advisories.access`). Every change goes through
`psirt.advisories.services`; refusals come back as messages naming what is missing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from psirt.accounts.access import desk_user
from psirt.advisories import services
from psirt.advisories.access import can_edit_advisory, get_advisory_for, get_case, visible_advisories, visible_case_ids
from psirt.advisories.exceptions import AdvisoryError
from psirt.advisories.forms import (
    AdvisoryForm,
    AffectedFormSet,
    PublicationPolicyForm,
    affected_initial,
    product_options,
)
from psirt.advisories.models import (
    Advisory,
    AdvisoryState,
    AffectedProduct,
    Exploitation,
    PendingRevision,
    PublicationPolicy,
    Revision,
)
from psirt.advisories.services.case_facts import AUTHORABLE_STATES, FACTS, locked_facts
from psirt.advisories.views.presenters import page_context
from psirt.cases.models import Case
from psirt.lib.access import lead_required, staff_required


def author_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in leads and handlers; product engineers get 404 (advisories in the making are need-to-know)."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if desk_user(request).is_engineer:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


@author_view
def desk_list(request: HttpRequest) -> HttpResponse:
    advisories = visible_advisories(request.user).order_by("-updated_at")[:200]
    return render(request, "advisories/desk/list.html", {"advisories": advisories})


def _policy_page(request: HttpRequest, form: PublicationPolicyForm, *, status: int = 200) -> HttpResponse:
    current = services.current_policy()
    context = {
        "form": form,
        "current": current,
        "conditions": services.public_conditions(current),
        "versions": PublicationPolicy.objects.select_related("created_by").order_by("-version")[:50],
    }
    return render(request, "advisories/desk/policy.html", context, status=status)


@lead_required
@require_http_methods(["GET", "POST"])
def publication_policy(request: HttpRequest) -> HttpResponse:
    """Leads edit the publication policy; each save writes the next version (old ones stay as they were)."""
    if request.method != "POST":
        return _policy_page(request, PublicationPolicyForm(initial=services.policy_settings(services.current_policy())))
    form = PublicationPolicyForm(request.POST)
    if not form.is_valid():
        return _policy_page(request, form, status=400)
    try:
        policy = services.set_publication_policy(actor=desk_user(request), request=request, **form.cleaned_data)
    except AdvisoryError as exc:
        form.add_error(None, exc.message)
        return _policy_page(request, form, status=exc.status)
    messages.success(request, _("Publication policy saved as version %(version)d.") % {"version": policy.version})
    return redirect("desk:advisories:policy")


def _authorable_cases(user: Any) -> list[Any]:
    return list(
        Case.objects.filter(pk__in=visible_case_ids(user), state__in=AUTHORABLE_STATES)
        .select_related("product")
        .order_by("-created_at")[:200]
    )


@author_view
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """Choose the case(s) to write an advisory from (a case page links here with ?case=<id>)."""
    if request.method == "POST":
        ids = request.POST.getlist("cases")[:20]
        try:
            cases = [get_case(request.user, value, request=request) for value in ids]
            advisory = services.create_advisory(cases=cases, actor=desk_user(request), request=request)
        except AdvisoryError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Advisory %(id)s started as a draft.") % {"id": advisory.advisory_id})
            return redirect("desk:advisories:edit", public_id=advisory.public_id)
    preselected = set(request.POST.getlist("cases") or request.GET.getlist("case"))
    return render(
        request,
        "advisories/desk/create.html",
        {"cases": _authorable_cases(request.user), "preselected": preselected},
    )


@dataclass(frozen=True)
class FieldChange:
    """One field of an open revision: its label, the published value and the revised one, as shown."""

    label: str
    published: str
    revised: str


def _shown(name: str, value: Any) -> str:
    if value in ("", None):
        return "—"
    if name == "cwe_id":
        return f"CWE-{value}"
    if name == "exploitation":
        return str(Exploitation(value).label)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


def _row_shown(row: services.AffectedInput) -> str:
    values = {
        "product": row.product.name,
        "variant": f" ({row.variant})" if row.variant else "",
        "introduced": row.introduced.version if row.introduced else _("the first release"),
    }
    if row.fixed is None:
        return _("%(product)s%(variant)s: from %(introduced)s, no fix yet") % values
    return _("%(product)s%(variant)s: from %(introduced)s, fixed in %(fixed)s") % {**values, "fixed": row.fixed.version}


def revision_changes(advisory: Advisory, pending: PendingRevision) -> list[FieldChange]:
    """What the open revision changes, field by field in the editor's order, against the published advisory;
    the affected table, when changed, as one entry listing the rows before and after."""
    changes = [
        FieldChange(
            label=capfirst(str(getattr(Advisory._meta.get_field(name), "verbose_name", name))),
            published=_shown(name, getattr(advisory, name)),
            revised=_shown(name, pending.changes[name]),
        )
        for name in AdvisoryForm.FIELDS
        if name in pending.changes
    ]
    if pending.affected is not None:
        try:
            revised = "\n".join(_row_shown(r) for r in services.affected_from_json(pending.affected)) or "—"
        except AdvisoryError as exc:
            revised = exc.message
        published = "\n".join(_row_shown(r) for r in services.current_affected(advisory)) or "—"
        changes.append(FieldChange(label=_("Affected products"), published=published, revised=revised))
    return changes


def _workflow_context(request: HttpRequest, advisory: Advisory) -> dict[str, Any]:
    pending = services.open_revision(advisory)
    normal = expedite = ""
    if pending is not None or advisory.state not in (AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN):
        for flag in (False, True):
            try:
                services.check_publication(advisory=advisory, expedite=flag)
                message = ""
            except AdvisoryError as exc:
                message = exc.message
            if flag:
                expedite = message
            else:
                normal = message
    subject = pending if pending is not None else advisory
    user = desk_user(request)
    return {
        "advisory": advisory,
        "pending": pending,
        # Why this lead may not approve (four eyes); shown instead of the button.
        "approve_refusal": services.approval_refusal(subject, user) if user.is_lead else "",
        "expedite_refusal": services.expedite_refusal(subject, user) if user.is_lead else "",
        # What the review steps act on: the advisory, or the open revision of a published one.
        "subject": pending if pending is not None else advisory,
        "revision_changes": revision_changes(advisory, pending) if pending is not None else [],
        "links": list(advisory.case_links.select_related("case").order_by("id")),
        "revisions": list(advisory.revisions.order_by("-number")),
        "can_edit": can_edit_advisory(request.user, advisory),
        "is_lead": desk_user(request).is_lead,
        "normal_problem": normal,
        "expedite_problem": expedite,
        "publication_date": services.publication_date_for(advisory) if pending is None else None,
        **_facts_context(advisory),
    }


def _facts_context(advisory: Advisory) -> dict[str, Any]:
    """The facts panel: what differs from the cases, the overrides and their reasons (for every reader of the
    desk page: authors, reviewers, leads), and the facts that may still be overridden."""
    if advisory.state == AdvisoryState.WITHDRAWN:
        return {"differences": [], "overrides": [], "fact_choices": []}
    overrides = list(advisory.fact_overrides.select_related("actor"))
    taken = {o.fact for o in overrides}
    for o in overrides:
        o.label = str(FACTS.get(o.fact, o.fact))  # type: ignore[attr-defined]
    return {
        # With an open revision: what the revision would publish.
        "differences": services.facts_differences(advisory),
        "overrides": overrides,
        "fact_choices": [(name, label) for name, label in FACTS.items() if name not in taken],
    }


@author_view
def detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    advisory = get_advisory_for(request.user, public_id, request=request)
    return render(request, "advisories/desk/detail.html", _workflow_context(request, advisory))


def _revision_preview(request: HttpRequest, advisory: Advisory, pending: PendingRevision) -> dict[str, Any]:
    """The public page as it will be once `pending` is published: the revised texts, affected table and the
    upcoming numbered revision with its summary."""
    shown = services.revised_advisory(advisory, pending)
    table = None
    if pending.affected is not None:
        table = [
            AffectedProduct(
                advisory=shown, product=r.product, variant=r.variant, introduced=r.introduced, fixed=r.fixed
            )
            for r in services.affected_from_json(pending.affected)
        ]
    context = page_context(request, shown, preview=True, table=table)
    upcoming = Revision(
        advisory=shown,
        number=max((r.number for r in context["revisions"]), default=0) + 1,
        date=timezone.now(),
        summary_en=pending.summary_en,
        summary_zh=pending.summary_zh,
    )
    context["revisions"] = [upcoming, *context["revisions"]]
    context["preview_revision"] = True
    return context


@author_view
def preview(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Exactly the public page (same template, same context), marked as a preview; `?revision=1` previews a
    published advisory as its open revision would make it."""
    advisory = get_advisory_for(request.user, public_id, request=request)
    pending = services.open_revision(advisory) if request.GET.get("revision") == "1" else None
    try:
        context = _revision_preview(request, advisory, pending) if pending is not None else None
    except AdvisoryError as exc:
        messages.error(request, exc.message)
        context = None
    if context is None:
        context = page_context(request, advisory, preview=True)
    response = render(request, "advisories/detail.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@author_view
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Edit a draft in place, or a published advisory's open revision (the published version stays as it is)."""
    advisory = get_advisory_for(request.user, public_id, request=request)
    if not can_edit_advisory(request.user, advisory) or advisory.state == AdvisoryState.WITHDRAWN:
        raise Http404
    pending = services.open_revision(advisory)
    products = product_options()
    locked = locked_facts(advisory)
    affected_locked = "affected" in locked
    # What the author edits: the advisory, or the published one as its open revision would change it.
    shown = services.revised_advisory(advisory, pending) if pending is not None else advisory
    rows_initial = (
        services.affected_from_json(pending.affected) if pending is not None and pending.affected is not None else None
    )
    if request.method == "POST":
        form = AdvisoryForm(request.POST, initial=AdvisoryForm.initial_for(shown), locked=locked)
        formset = AffectedFormSet(request.POST, prefix="affected", form_kwargs={"products": products})
        # The affected table of the cases is not edited here (read-only, "from the case").
        if form.is_valid() and (affected_locked or formset.is_valid()):
            rows = (
                None
                if affected_locked
                else [
                    f.cleaned_data["row"]
                    for f in formset.forms
                    if f.cleaned_data.get("row") is not None and not f.cleaned_data.get("DELETE")
                ]
            )
            try:
                services.update_advisory(
                    advisory=advisory,
                    actor=desk_user(request),
                    changes=form.changes(),
                    affected=rows,
                    revision_summary_en=form.cleaned_data["revision_summary_en"],
                    revision_summary_zh=form.cleaned_data["revision_summary_zh"],
                    notify=form.cleaned_data["notify"],
                    request=request,
                )
            except AdvisoryError as exc:
                form.add_error(None, exc.message)
            else:
                if advisory.state == AdvisoryState.PUBLISHED:
                    messages.success(request, _("Saved in the draft revision; the published advisory is unchanged."))
                else:
                    messages.success(request, _("Saved."))
                return redirect("desk:advisories:detail", public_id=advisory.public_id)
    else:
        initial: dict[str, Any] = {}
        if pending is not None:
            initial = {
                "revision_summary_en": pending.summary_en,
                "revision_summary_zh": pending.summary_zh,
                "notify": pending.notify,
            }
        form = AdvisoryForm(initial={**AdvisoryForm.initial_for(shown), **initial}, locked=locked)
        formset = AffectedFormSet(
            initial=affected_initial(advisory, rows_initial), prefix="affected", form_kwargs={"products": products}
        )
    context = {
        "advisory": advisory,
        "pending": pending,
        "form": form,
        "formset": formset,
        "affected_locked": affected_locked,
        "affected_rows": rows_initial
        if rows_initial is not None
        else list(advisory.affected.select_related("product", "introduced", "fixed").order_by("id")),
    }
    return render(request, "advisories/desk/edit.html", context)


@author_view
@require_POST
def facts_action(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Override a fact with a reason, drop an override, or revise the advisory to match its cases."""
    advisory = get_advisory_for(request.user, public_id, request=request)
    user, post, op = desk_user(request), request.POST, request.POST.get("op", "")[:40]
    try:
        if op == "override":
            services.override_fact(
                advisory=advisory, fact=post.get("fact", ""), reason=post.get("reason", ""), actor=user, request=request
            )
            messages.success(request, _("Override recorded: the fact can now be edited."))
        elif op == "unoverride":
            services.remove_override(advisory=advisory, fact=post.get("fact", ""), actor=user, request=request)
            messages.success(request, _("Override removed: the fact is the cases' again."))
        elif op == "revise":
            services.revise_to_match(advisory=advisory, actor=user, request=request)
            messages.success(request, _("The advisory now states what its cases say."))
        else:
            raise Http404
    except AdvisoryError as exc:
        messages.error(request, exc.message)
    return redirect("desk:advisories:detail", public_id=advisory.public_id)


def _op(request: HttpRequest, advisory: Advisory, op: str) -> str:
    """Run one workflow action; returns the success message. Raises AdvisoryError on refusal, Http404 for an
    unknown action."""
    user, post = desk_user(request), request.POST
    if op == "submit":
        services.submit_for_review(advisory=advisory, actor=user, request=request)
        return _("Sent for review.")
    if op == "return":
        services.return_to_draft(advisory=advisory, actor=user, reason=post.get("reason", ""), request=request)
        return _("Back to draft.")
    if op == "approve":
        services.approve_advisory(advisory=advisory, actor=user, request=request)
        return _("Approved for publication.")
    if op == "justify":
        services.set_expedite_justification(
            advisory=advisory, actor=user, justification=post.get("justification", ""), request=request
        )
        return _("Justification saved.")
    if op == "approve_expedite":
        services.approve_expedite(advisory=advisory, actor=user, request=request)
        return _("Expedited publication approved.")
    if op in ("publish", "publish_expedited"):
        revision = advisory.state == AdvisoryState.PUBLISHED
        services.publish_advisory(advisory=advisory, actor=user, expedite=op == "publish_expedited", request=request)
        return _("Revision published.") if revision else _("Published.")
    if op == "discard":
        services.discard_revision(advisory=advisory, actor=user, request=request)
        return _("Revision discarded; the published advisory is unchanged.")
    if op == "schedule":
        advisory = services.schedule_publication(advisory=advisory, actor=user, request=request)
        return _("Publication scheduled.")
    if op == "unschedule":
        services.cancel_schedule(advisory=advisory, actor=user, request=request)
        return _("Schedule cancelled.")
    if op == "withdraw":
        services.withdraw_advisory(advisory=advisory, actor=user, reason=post.get("reason", ""), request=request)
        return _("Withdrawn.")
    raise Http404


@author_view
@require_POST
def action(request: HttpRequest, public_id: Any) -> HttpResponse:
    advisory = get_advisory_for(request.user, public_id, request=request)
    try:
        messages.success(request, _op(request, advisory, request.POST.get("op", "")[:40]))
    except AdvisoryError as exc:
        messages.error(request, exc.message)
    return redirect("desk:advisories:detail", public_id=advisory.public_id)
