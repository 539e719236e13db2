"""The access matrix: every desk and API URL × every persona → the expected status.

The URL map is resolved at test time: a desk URL (namespace `desk:`) or an API operation (from the OpenAPI
schema: method + path) without an entry in `DESK` / `API` below fails `test_every_url_has_an_entry`. Add the
entry — deciding who may reach the new URL — to make it pass.

Personas: lead, assigned handler, unassigned handler, product engineer invited to the case, product engineer
not invited, the reporter (a browser that opened their portal link; on the API, their portal token as a
bearer token), anonymous. Each request runs in a savepoint that is rolled back, so every persona meets the
same world (a case in state "new" with one of everything) and POSTs carry data that would succeed.

Statuses: 200 page, 302 redirect (after a successful POST, or to the sign-in page for visitors without an
account), 400/422 refused input, 401 no/invalid API token, 403 may see but not change, 404 does not exist for
this persona (need-to-know), 405 wrong method.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import _make_user, client_for
from psirt.accounts.models import Role
from psirt.accounts.services import create_token
from psirt.audit.models import AuditEvent
from psirt.cases.services import cases as case_services
from psirt.cases.services import remediation
from psirt.catalog.models import Product
from psirt.intake.services import IncomingFile
from psirt.tests.factories import make_line, make_product, make_release, submit_test_report

pytestmark = pytest.mark.django_db

PERSONAS = ("lead", "handler", "other_handler", "invited", "engineer", "reporter", "anonymous")
LOGIN = 302  # visitors without an account are sent to the sign-in page


@dataclass
class World:
    """One of everything, as seen by the seven personas."""

    objects: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    bearer: dict[str, dict[str, str]] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


def _report(product: Product, email: str, files: tuple[IncomingFile, ...] = ()) -> Any:
    return submit_test_report(
        product, reporter_name="Ada", email=email, description="Overflow in the RTSP server", files=files
    )


def build_world() -> World:
    w = World()
    o = w.objects
    o["line"] = make_line(name_en="Cameras", position=1)
    o["product"] = make_product(o["line"])
    o["r1"] = make_release(o["product"], "1.0", 1)
    o["r2"] = make_release(o["product"], "2.0", 2)
    users = {
        "lead": _make_user("lead@m.test", Role.LEAD),
        "handler": _make_user("handler@m.test", Role.HANDLER),
        "other_handler": _make_user("other@m.test", Role.HANDLER),
        "invited": _make_user("invited@m.test", Role.ENGINEER),
        "engineer": _make_user("engineer@m.test", Role.ENGINEER),
    }
    o.update(users)
    submission = _report(o["product"], "ada@x.test", (IncomingFile(name="poc.txt", source=b"proof"),))
    o["report"], o["portal_token"] = submission.report, submission.token
    o["attachment"] = o["report"].attachments.get()
    o["inbox_report"] = _report(o["product"], "bob@x.test").report
    lead = users["lead"]
    case = case_services.open_case(report=o["report"], actor=lead, title="RTSP overflow", assignees=[users["handler"]])
    case_services.invite_engineer(case=case, engineer=users["invited"], actor=lead)
    o["case"] = case
    o["reference"] = case_services.add_reference(case=case, value="CVE-2026-1111", actor=lead)
    o["range"] = remediation.set_affected_range(case=case, product=o["product"], fixed=o["r2"], actor=lead)
    o["mitigation"] = remediation.add_mitigation(case=case, text_en="Disable RTSP", actor=lead)
    o["work_item"] = remediation.add_work_item(case=case, title="Patch", owner=users["invited"], actor=lead)
    for name, user in users.items():
        w.clients[name] = client_for(user)
        _row, token = create_token(user=user, name="matrix", scopes=sorted(_scopes(user.role)))
        w.bearer[name] = {"Authorization": f"Bearer {token}"}
    reporter = Client()
    assert reporter.get(f"/en/r/{o['portal_token']}/").status_code == 200
    w.clients["reporter"] = reporter
    w.bearer["reporter"] = {"Authorization": f"Bearer {o['portal_token']}"}
    w.clients["anonymous"] = Client()
    w.bearer["anonymous"] = {}
    return w


def _scopes(role: str) -> frozenset[str]:
    from psirt.accounts.access import allowed_scopes

    return allowed_scopes(role)


# --- expectations -----------------------------------------------------------------------------------------


def S(lead: int, handler: int, other: int, invited: int, engineer: int, reporter: int, anon: int) -> dict[str, int]:
    return dict(zip(PERSONAS, (lead, handler, other, invited, engineer, reporter, anon), strict=True))


# Shorthands for the usual shapes.
CASE_READ = S(200, 200, 404, 200, 404, LOGIN, LOGIN)  # need-to-know pages of a case
CASE_EDIT = S(302, 302, 404, 403, 404, LOGIN, LOGIN)  # edits by leads and assigned handlers
LEAD_EDIT = S(302, 403, 404, 403, 404, LOGIN, LOGIN)  # edits by leads only, on a visible case
LEADS_ONLY = S(200, 404, 404, 404, 404, LOGIN, LOGIN)  # pages that do not exist for non-leads
LEADS_POST = S(302, 404, 404, 404, 404, LOGIN, LOGIN)
STAFF = S(200, 200, 200, 200, 200, LOGIN, LOGIN)  # any signed-in team member


@dataclass(frozen=True)
class Entry:
    path: Callable[[World], str]
    expected: dict[str, int]
    method: str = "get"
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    # A 404 for a signed-in persona on this URL leaves a `case.access_denied` audit entry.
    audited: bool = False


def _case(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/en/desk/cases/{w.case.public_id}/{suffix}"


NOWHERE = uuid.UUID(int=1)  # a well-formed id that names nothing


DESK: dict[str, Entry] = {
    # --- the case desk ---
    "desk:cases:list": Entry(lambda w: "/en/desk/cases/", STAFF),
    "desk:cases:dashboard": Entry(lambda w: "/en/desk/cases/dashboard/", STAFF),
    "desk:cases:deadline_settings": Entry(lambda w: "/en/desk/cases/deadlines/", LEADS_ONLY),
    "desk:cases:triage": Entry(lambda w: f"/en/desk/cases/triage/{w.inbox_report.public_id}/", LEADS_ONLY),
    "desk:cases:triage_open": Entry(
        lambda w: f"/en/desk/cases/triage/{w.inbox_report.public_id}/open/",
        LEADS_POST,
        "post",
        lambda w: {"title": "New case"},
    ),
    "desk:cases:triage_attach": Entry(
        lambda w: f"/en/desk/cases/triage/{w.inbox_report.public_id}/attach/",
        LEADS_POST,
        "post",
        lambda w: {"case": w.case.key},
    ),
    "desk:cases:case": Entry(_case(), CASE_READ, audited=True),
    "desk:cases:transition": Entry(
        _case("transition/"), CASE_EDIT, "post", lambda w: {"to_state": "acknowledged"}, audited=True
    ),
    "desk:cases:people": Entry(
        _case("people/"), LEAD_EDIT, "post", lambda w: {"action": "assign", "user": str(w.other_handler.public_id)}
    ),
    "desk:cases:contacts": Entry(_case("contacts/"), LEAD_EDIT, "post", lambda w: {"action": "share"}),
    "desk:cases:cvss": Entry(
        _case("cvss/31/"),
        CASE_EDIT,
        "post",
        lambda w: {"v31-vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "v31-shown_vector": ""},
        audited=True,
    ),
    # The calculators' live score: stores nothing, so anyone who may read the case may ask it.
    "desk:cases:cvss_score": Entry(
        _case("cvss/31/score/?v31-vector=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), CASE_READ, audited=True
    ),
    "desk:cases:cwe": Entry(_case("cwe/"), CASE_EDIT, "post", lambda w: {"cwe": "CWE-79"}),
    "desk:cases:exploitation": Entry(_case("exploitation/"), CASE_EDIT, "post", lambda w: {"status": "poc"}),
    "desk:cases:reference_add": Entry(_case("references/"), CASE_EDIT, "post", lambda w: {"value": "CVE-2026-2222"}),
    "desk:cases:reference_remove": Entry(
        _case("references/remove/"), CASE_EDIT, "post", lambda w: {"kind": "cve", "value": "CVE-2026-1111"}
    ),
    "desk:cases:disclosure": Entry(_case("disclosure/"), CASE_EDIT, "post", lambda w: {"date": "2026-12-01"}),
    "desk:cases:message": Entry(
        _case("messages/"),
        CASE_EDIT,
        "post",
        lambda w: {"msg-report": str(w.report.public_id), "msg-body": "Hello"},
        audited=True,
    ),
    "desk:cases:note": Entry(
        _case("notes/"), CASE_EDIT, "post", lambda w: {"note-report": str(w.report.public_id), "note-body": "Note"}
    ),
    "desk:cases:range_set": Entry(
        _case("affected/"),
        CASE_EDIT,
        "post",
        lambda w: {"range-product": w.product.slug, "range-introduced": str(w.r1.public_id), "range-fixed": ""},
    ),
    "desk:cases:range_remove": Entry(
        _case("affected/remove/"), CASE_EDIT, "post", lambda w: {"range": str(w.range.public_id)}
    ),
    "desk:cases:mitigation_add": Entry(
        _case("mitigations/"), CASE_EDIT, "post", lambda w: {"mit-kind": "workaround", "mit-text_en": "Unplug"}
    ),
    "desk:cases:mitigation_remove": Entry(
        _case("mitigations/remove/"), CASE_EDIT, "post", lambda w: {"mitigation": str(w.mitigation.public_id)}
    ),
    "desk:cases:work_add": Entry(_case("work/"), CASE_EDIT, "post", lambda w: {"work-title": "Build"}),
    # The owner (the invited engineer) may mark their own work item done.
    "desk:cases:work_change": Entry(
        lambda w: f"/en/desk/cases/{w.case.public_id}/work/{w.work_item.public_id}/",
        S(302, 302, 404, 302, 404, LOGIN, LOGIN),
        "post",
        lambda w: {"action": "done"},
    ),
    # --- the case's reports and files (intake pages, same need-to-know) ---
    "desk:intake:inbox": Entry(lambda w: "/en/desk/inbox/", LEADS_ONLY),
    "desk:intake:report": Entry(lambda w: f"/en/desk/inbox/{w.report.public_id}/", CASE_READ),
    "desk:intake:attachment": Entry(
        lambda w: f"/en/desk/inbox/{w.report.public_id}/files/{w.attachment.public_id}/", CASE_READ
    ),
}


def _other(path: str, expected: dict[str, int], method: str = "get") -> Entry:
    """Another app's desk URL: reached with ids that name nothing where the URL takes one (the matrix asserts
    who gets past sign-in and role checks, the owning app's tests the rest)."""
    return Entry(lambda w: path, expected, method)


_NO = str(NOWHERE)
COMPONENTS = S(200, 404, 404, 200, 404, LOGIN, LOGIN)  # leads and members of the release's product line
NOT_FOUND_STAFF = S(404, 404, 404, 404, 404, LOGIN, LOGIN)
# The catalog: leads and handlers edit, engineers read (403 on editing pages, before any lookup).
CATALOG_NEW = S(200, 200, 200, 403, 403, LOGIN, LOGIN)
CATALOG_MISSING = S(404, 404, 404, 403, 403, LOGIN, LOGIN)
# Advisories' desk: leads and handlers; it does not exist for engineers.
ADVISORY_DESK = S(200, 200, 200, 404, 404, LOGIN, LOGIN)
POST_ONLY_LEADS = S(405, 404, 404, 404, 404, LOGIN, LOGIN)
STAFF_POST_ONLY = S(405, 405, 405, 405, 405, LOGIN, LOGIN)

DESK.update(
    {
        "desk:home": _other("/en/desk/", STAFF),
        "desk:users": _other("/en/desk/users/", LEADS_ONLY),
        "desk:user_invite": _other("/en/desk/users/invite/", S(405, 404, 404, 404, 404, LOGIN, LOGIN)),
        "desk:user_detail": _other(f"/en/desk/users/{_NO}/", NOT_FOUND_STAFF),
        "desk:user_role": _other(f"/en/desk/users/{_NO}/role/", S(405, 404, 404, 404, 404, LOGIN, LOGIN)),
        "desk:user_active": _other(f"/en/desk/users/{_NO}/active/", S(405, 404, 404, 404, 404, LOGIN, LOGIN)),
        "desk:user_reset_mfa": _other(f"/en/desk/users/{_NO}/reset-2fa/", S(405, 404, 404, 404, 404, LOGIN, LOGIN)),
        "desk:user_resend_invite": _other(
            f"/en/desk/users/{_NO}/resend-invitation/", S(405, 404, 404, 404, 404, LOGIN, LOGIN)
        ),
        "desk:tokens": _other("/en/desk/tokens/", STAFF),
        "desk:token_revoke": _other("/en/desk/tokens/abcdefabcdef/revoke/", S(405, 405, 405, 405, 405, LOGIN, LOGIN)),
        "desk:audit": _other("/en/desk/audit/", LEADS_ONLY),
        "desk:catalog:index": _other("/en/desk/catalog/", STAFF),
        "desk:components:index": Entry(lambda w: _components(w) and "/en/desk/components/", COMPONENTS),
        "desk:components:vulnerability": Entry(
            lambda w: _components(w) and "/en/desk/components/vulnerabilities/CVE-2026-90001/", COMPONENTS
        ),
        "desk:components:release": Entry(
            lambda w: _components(w) and f"/en/desk/components/releases/{w.r1.public_id}/", COMPONENTS
        ),
        "desk:components:sbom_download": Entry(lambda w: f"/en/desk/components/sboms/{_components(w)}/", COMPONENTS),
        # Deleting an SBOM is for leads only (the confirmation page; the POST is refused within retention).
        "desk:components:sbom_delete": Entry(
            lambda w: f"/en/desk/components/sboms/{_components(w)}/delete/", LEADS_ONLY
        ),
        "desk:catalog:line_create": _other("/en/desk/catalog/lines/new/", CATALOG_NEW),
        "desk:catalog:line_edit": _other("/en/desk/catalog/lines/no-such-line/edit/", CATALOG_MISSING),
        "desk:catalog:line_delete": _other("/en/desk/catalog/lines/no-such-line/delete/", CATALOG_MISSING),
        "desk:catalog:product_create": _other("/en/desk/catalog/products/new/", CATALOG_NEW),
        "desk:catalog:product_detail": _other("/en/desk/catalog/products/no-such-product/", NOT_FOUND_STAFF),
        "desk:catalog:product_edit": _other("/en/desk/catalog/products/no-such-product/edit/", CATALOG_MISSING),
        "desk:catalog:product_delete": _other("/en/desk/catalog/products/no-such-product/delete/", CATALOG_MISSING),
        "desk:catalog:release_create": _other(
            "/en/desk/catalog/products/no-such-product/releases/new/", CATALOG_MISSING
        ),
        "desk:catalog:release_edit": _other(f"/en/desk/catalog/releases/{_NO}/edit/", CATALOG_MISSING),
        "desk:catalog:release_delete": _other(f"/en/desk/catalog/releases/{_NO}/delete/", CATALOG_MISSING),
        "desk:pages:organization": _other("/en/desk/settings/organization/", LEADS_ONLY),
        "desk:pages:page_list": _other("/en/desk/settings/pages/", LEADS_ONLY),
        "desk:pages:page_edit": _other("/en/desk/settings/pages/no-such-page/", NOT_FOUND_STAFF),
        "desk:advisories:list": _other("/en/desk/advisories/", ADVISORY_DESK),
        "desk:advisories:create": _other("/en/desk/advisories/new/", ADVISORY_DESK),
        "desk:advisories:policy": _other("/en/desk/advisories/policy/", LEADS_ONLY),
        "desk:advisories:detail": _other(f"/en/desk/advisories/{_NO}/", NOT_FOUND_STAFF),
        "desk:advisories:edit": _other(f"/en/desk/advisories/{_NO}/edit/", NOT_FOUND_STAFF),
        "desk:advisories:preview": _other(f"/en/desk/advisories/{_NO}/preview/", NOT_FOUND_STAFF),
        "desk:advisories:action": _other(
            f"/en/desk/advisories/{_NO}/action/", S(405, 405, 405, 404, 404, LOGIN, LOGIN)
        ),
        "desk:advisories:facts": _other(f"/en/desk/advisories/{_NO}/facts/", S(405, 405, 405, 404, 404, LOGIN, LOGIN)),
        # Regulatory records: leads and the case's assignees only; engineers never (the regulatory app's own
        # matrix, psirt/regulatory/tests/test_desk.py, covers a real obligation).
        "desk:regulatory:list": _other("/en/desk/regulatory/", S(200, 200, 200, 404, 404, LOGIN, LOGIN)),
        "desk:regulatory:open_incident": _other("/en/desk/regulatory/incident/", POST_ONLY_LEADS),
        "desk:regulatory:open_miit": _other(f"/en/desk/regulatory/miit/{_NO}/", POST_ONLY_LEADS),
        "desk:regulatory:detail": _other(f"/en/desk/regulatory/{_NO}/", NOT_FOUND_STAFF),
        "desk:regulatory:decide": _other(f"/en/desk/regulatory/{_NO}/decide/", STAFF_POST_ONLY),
        "desk:regulatory:measure": _other(f"/en/desk/regulatory/{_NO}/measure/", STAFF_POST_ONLY),
        "desk:regulatory:stage": _other(f"/en/desk/regulatory/{_NO}/stage/early_warning/", STAFF_POST_ONLY),
        "desk:regulatory:download": _other(
            f"/en/desk/regulatory/{_NO}/stage/early_warning/download.txt", NOT_FOUND_STAFF
        ),
        "desk:regulatory:entry": _other(f"/en/desk/regulatory/{_NO}/record/", STAFF_POST_ONLY),
        "desk:regulatory:draft_notice": _other(f"/en/desk/regulatory/{_NO}/notice/", STAFF_POST_ONLY),
        "desk:regulatory:direct_notice": _other(f"/en/desk/regulatory/{_NO}/direct-notice/", STAFF_POST_ONLY),
        "desk:regulatory:evidence": _other(f"/en/desk/regulatory/{_NO}/evidence/{_NO}/", NOT_FOUND_STAFF),
        "desk:notify:deliveries": _other("/en/desk/notify/", LEADS_ONLY),
        "desk:notify:retry": _other(f"/en/desk/notify/deliveries/{_NO}/retry/", POST_ONLY_LEADS),
        "desk:notify:subscribers": _other("/en/desk/notify/subscribers/", LEADS_ONLY),
        "desk:notify:webhooks": _other("/en/desk/notify/webhooks/", LEADS_ONLY),
        "desk:notify:webhook_toggle": _other(f"/en/desk/notify/webhooks/{_NO}/toggle/", POST_ONLY_LEADS),
        "desk:notify:customers": _other("/en/desk/notify/customers/", LEADS_ONLY),
        "desk:notify:customer_import": _other("/en/desk/notify/customers/import/", POST_ONLY_LEADS),
        "desk:notify:customer_notify": _other("/en/desk/notify/customers/notify/", POST_ONLY_LEADS),
        # Metrics: every team member, counted over what they may see; the public statistics switch is the leads'.
        "desk:metrics:page": _other("/en/desk/metrics/", STAFF),
        "desk:metrics:csv": _other("/en/desk/metrics/durations.csv", STAFF),
        "desk:metrics:public": Entry(
            lambda w: "/en/desk/metrics/public/", LEADS_POST, "post", lambda w: {"enabled": "1", "min_count": "10"}
        ),
        # The case file holds the reporters' identities: leads and the case's handlers, not product engineers.
        "desk:case_file_pdf": Entry(_case("file.pdf"), S(200, 200, 404, 404, 404, LOGIN, LOGIN), audited=True),
        "desk:case_file_zip": Entry(_case("file.zip"), S(200, 200, 404, 404, 404, LOGIN, LOGIN), audited=True),
    }
)


def _api(path: str) -> Callable[[World], str]:
    return lambda w: path.replace("{case_id}", str(w.case.public_id))


API_READ = S(200, 200, 404, 200, 404, 401, 401)
API_EDIT = S(200, 200, 404, 403, 404, 401, 401)
API_CREATE = S(201, 201, 404, 403, 404, 401, 401)
PUBLIC = S(200, 200, 200, 200, 200, 200, 200)
NOBODY = S(404, 404, 404, 404, 404, 404, 404)


def _draft(w: World) -> str:
    """The ID of a draft advisory written from the world's case (created on first use)."""
    from psirt.advisories.models import Advisory, AdvisoryCase

    draft, created = Advisory.objects.get_or_create(
        advisory_id="VT-SA-2026-901",
        defaults={"year": 2026, "number": 901, "title_en": "RTSP overflow", "identifiers": "CVE-2026-1111"},
    )
    if created:
        AdvisoryCase.objects.create(advisory=draft, case=w.case)
    return draft.advisory_id


def _components(w: World) -> str:
    """The components world (created on first use): the invited engineer belongs to the product line, r1 has an
    SBOM and a third-party vulnerability matches it. Returns the SBOM's public id."""
    from psirt.components.models import SbomDocument, Vulnerability
    from psirt.components.services import import_sbom, import_vulnerabilities
    from psirt.components.vulndata import parse_records

    w.invited.product_lines.add(w.line)
    document = SbomDocument.objects.filter(release=w.r1).first()
    if document is None:
        data = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [{"type": "library", '
        data += b'"name": "zlib", "version": "1.3.1", "purl": "pkg:generic/zlib@1.3.1"}]}'
        document = import_sbom(release=w.r1, data=data, actor=None)
    if not Vulnerability.objects.filter(vuln_id="CVE-2026-90001").exists():
        osv = {
            "id": "CVE-2026-90001",
            "modified": "2026-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": "OSS-Fuzz", "name": "zlib"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.3.2"}]}],
                }
            ],
        }
        import_vulnerabilities(records=parse_records(osv, origin="matrix"))
    return str(document.public_id)


API: dict[str, Entry] = {
    "GET /api/v1/cases": Entry(_api("/api/v1/cases"), S(200, 200, 200, 200, 200, 401, 401)),
    "GET /api/v1/metrics": Entry(_api("/api/v1/metrics"), S(200, 200, 200, 200, 200, 401, 401)),
    "POST /api/v1/cases": Entry(
        _api("/api/v1/cases"),
        # Inbox reports exist for leads only; a handler's token may write cases but finds no such report.
        S(201, 404, 404, 404, 404, 401, 401),
        "post",
        lambda w: {"report": w.inbox_report.tracking_id, "title": "New"},
    ),
    "GET /api/v1/cases/{case_id}": Entry(_api("/api/v1/cases/{case_id}"), API_READ),
    "POST /api/v1/cases/{case_id}/duplicates": Entry(
        _api("/api/v1/cases/{case_id}/duplicates"),
        S(200, 404, 404, 404, 404, 401, 401),
        "post",
        lambda w: {"report": w.inbox_report.tracking_id},
    ),
    "POST /api/v1/cases/{case_id}/transition": Entry(
        _api("/api/v1/cases/{case_id}/transition"), API_EDIT, "post", lambda w: {"to_state": "acknowledged"}
    ),
    "PUT /api/v1/cases/{case_id}/cvss": Entry(
        _api("/api/v1/cases/{case_id}/cvss"),
        API_EDIT,
        "put",
        lambda w: {"vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
    ),
    "PUT /api/v1/cases/{case_id}/cwe": Entry(
        _api("/api/v1/cases/{case_id}/cwe"), API_EDIT, "put", lambda w: {"cwe": 79}
    ),
    "PUT /api/v1/cases/{case_id}/exploitation": Entry(
        _api("/api/v1/cases/{case_id}/exploitation"), API_EDIT, "put", lambda w: {"status": "active"}
    ),
    "POST /api/v1/cases/{case_id}/references": Entry(
        _api("/api/v1/cases/{case_id}/references"), API_CREATE, "post", lambda w: {"value": "CNVD-2026-12345"}
    ),
    "DELETE /api/v1/cases/{case_id}/references": Entry(
        _api("/api/v1/cases/{case_id}/references?value=CVE-2026-1111"), API_EDIT, "delete"
    ),
    "PUT /api/v1/cases/{case_id}/disclosure": Entry(
        _api("/api/v1/cases/{case_id}/disclosure"), API_EDIT, "put", lambda w: {"date": "2026-12-01"}
    ),
    "POST /api/v1/cases/{case_id}/assignees": Entry(
        _api("/api/v1/cases/{case_id}/assignees"),
        S(200, 403, 404, 403, 404, 401, 401),
        "post",
        lambda w: {"user": str(w.other_handler.public_id)},
    ),
    "POST /api/v1/cases/{case_id}/messages": Entry(
        _api("/api/v1/cases/{case_id}/messages"), API_CREATE, "post", lambda w: {"body": "Hello"}
    ),
    # --- other apps' API (public or their own scopes) ---
    "GET /api/v1/cvss": Entry(lambda w: "/api/v1/cvss?vector=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", PUBLIC),
    "GET /api/v1/affected": Entry(lambda w: "/api/v1/affected?product=cam-x5&version=1.0", PUBLIC),
    # Anyone may report (the token is optional); an empty body is refused with the fields to fill.
    "POST /api/v1/reports": Entry(lambda w: "/api/v1/reports", S(422, 422, 422, 422, 422, 422, 422), "post"),
    # The public read API: the same for everyone, and a draft advisory does not exist for anyone there, not even
    # for the lead who wrote it (the desk is where drafts are read).
    "GET /api/v1/advisories": Entry(lambda w: "/api/v1/advisories?q=RTSP", PUBLIC),
    "GET /api/v1/advisories/{advisory_id}": Entry(lambda w: f"/api/v1/advisories/{_draft(w)}", NOBODY),
    "GET /api/v1/advisories/{advisory_id}/revisions": Entry(
        lambda w: f"/api/v1/advisories/{_draft(w)}/revisions", NOBODY
    ),
    "GET /api/v1/advisories/{advisory_id}/csaf": Entry(lambda w: f"/api/v1/advisories/{_draft(w)}/csaf", NOBODY),
    "GET /api/v1/advisories/{advisory_id}/cve/{cve_id}": Entry(
        lambda w: f"/api/v1/advisories/{_draft(w)}/cve/CVE-2026-1111", NOBODY
    ),
    "GET /api/v1/products": Entry(lambda w: "/api/v1/products", PUBLIC),
    "GET /api/v1/products/{slug}": Entry(lambda w: "/api/v1/products/cam-x5", PUBLIC),
    "GET /api/v1/products/{slug}/releases": Entry(lambda w: "/api/v1/products/cam-x5/releases", PUBLIC),
    # A JSON body is not the multipart file the operation takes: refused after the token and its scope.
    "POST /api/v1/releases/{release_id}/sbom": Entry(
        lambda w: f"/api/v1/releases/{w.r1.public_id}/sbom", S(422, 422, 422, 403, 403, 401, 401), "post"
    ),
    "GET /api/v1/vex": Entry(
        lambda w: _components(w) and "/api/v1/vex?cve=CVE-2026-90001&product=cam-x5&version=1.0", PUBLIC
    ),
    # Regulatory obligations (token scope cases:read): the list is filtered by need-to-know, an id that names
    # nothing is 404 for everyone (the regulatory app's tests cover a real one).
    "GET /api/v1/regulatory/obligations": Entry(
        lambda w: "/api/v1/regulatory/obligations", S(200, 200, 200, 200, 200, 401, 401)
    ),
    "GET /api/v1/regulatory/obligations/{obligation_id}": Entry(
        lambda w: f"/api/v1/regulatory/obligations/{NOWHERE}", S(404, 404, 404, 404, 404, 401, 401)
    ),
}


# --- the URL map ------------------------------------------------------------------------------------------


def _desk_names(patterns: list[Any], namespace: str = "") -> list[str]:
    names: list[str] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            names += _desk_names(p.url_patterns, namespace + (f"{p.namespace}:" if p.namespace else ""))
        elif isinstance(p, URLPattern) and namespace.startswith("desk:"):
            names.append(namespace + (p.name or f"<unnamed {p.pattern}>"))
    return names


def _api_operations() -> list[str]:
    from psirt.api.urls import api

    schema = api.get_openapi_schema()
    return [
        f"{method.upper()} {path}"
        for path, ops in schema["paths"].items()
        for method in ops
        if method.lower() in {"get", "post", "put", "patch", "delete"}
    ]


def test_every_url_has_an_entry() -> None:
    desk = set(_desk_names(get_resolver().url_patterns))
    api = set(_api_operations())
    missing = sorted(desk - set(DESK)) + sorted(api - set(API))
    assert not missing, "URLs without an entry in the access matrix (add one): " + ", ".join(missing)
    stale = sorted(set(DESK) - desk) + sorted(set(API) - api)
    assert not stale, "Entries for URLs that no longer exist (remove them): " + ", ".join(stale)


# --- walking it -------------------------------------------------------------------------------------------


def _request(w: World, persona: str, entry: Entry, *, api: bool) -> int:
    path = entry.path(w)
    data = entry.data(w)
    if api:
        import json

        body = json.dumps(data) if entry.method in {"post", "put", "patch"} else None
        kwargs: dict[str, Any] = {"headers": w.bearer[persona]}
        if body is not None:
            kwargs.update(data=body, content_type="application/json")
        response = getattr(w.clients["anonymous"], entry.method)(path, **kwargs)
    else:
        client = w.clients[persona]
        response = client.post(path, data) if entry.method == "post" else client.get(path)
        if response.status_code == 302 and persona in ("reporter", "anonymous"):
            assert "/accounts/login/" in response["Location"], f"{path}: {persona} redirected elsewhere"
    return int(response.status_code)


def _walk(entry: Entry, *, api: bool) -> None:
    w = build_world()
    got: dict[str, int] = {}
    for persona in PERSONAS:
        denied_before = AuditEvent.objects.filter(action="case.access_denied").count()
        # Each persona meets the same world: its request's changes are rolled back afterwards.
        with transaction.atomic():
            got[persona] = _request(w, persona, entry, api=api)
            denied = AuditEvent.objects.filter(action="case.access_denied").count() > denied_before
            transaction.set_rollback(True)
        if entry.audited and got[persona] == 404 and persona not in ("reporter", "anonymous"):
            assert denied, f"{persona}: a refused look at a case must be audited"
    if got != entry.expected:
        import os

        if os.environ.get("MATRIX_PROBE"):
            print("PROBE", entry.path(w), entry.method, got)
    assert got == entry.expected


@pytest.mark.parametrize("name", sorted(DESK))
def test_desk_url(name: str) -> None:
    _walk(DESK[name], api=False)


@pytest.mark.parametrize("name", sorted(API))
def test_api_operation(name: str) -> None:
    _walk(API[name], api=True)


def test_matrix_ids_in_paths_are_never_integers() -> None:
    w = build_world()
    for entry in [*DESK.values(), *API.values()]:
        # The only all-digit segment is the CVSS version of a calculator (31 / 40), never a database key.
        segments = [seg for seg in entry.path(w).split("?")[0].split("/") if seg.isdigit()]
        assert set(segments) <= {"31", "40"}, entry.path(w)
