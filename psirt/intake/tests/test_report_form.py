"""The public report form: what it asks, how it validates, what success looks like."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from psirt.audit.models import AuditEvent
from psirt.intake.models import Attachment, AttachmentKind, Report, Stage
from psirt.intake.services import hash_token
from psirt.intake.tests.conftest import PCAP, pcap_file, valid_post

pytestmark = pytest.mark.django_db


def test_form_asks_for_everything_the_seeds_list(public, catalog, report_url):
    html = public.get(report_url).content.decode()
    for name in [
        "reporter_name",
        "reporter_email",
        "organization",
        "phone",
        "references",
        "product",
        "product_other",
        "release",
        "version",
        "description",
        "technical_details",
        "exploit_public",
        "public_exploit",
        "plans_to_publish",
        "disclosure_plans",
        "proposed_disclosure_date",
        "credit",
        "credit_anonymous",
        "pgp_key",
        "attachments",
        "accept_guidelines",
    ]:
        assert f'name="{name}"' in html, name
    assert 'enctype="multipart/form-data"' in html
    assert "/en/guidelines/" in html
    # Catalog choice: public products only, plus "other"; releases grouped by product.
    assert "Camera X5" in html and "Recorder 8" in html and "Prototype" not in html
    assert 'value="other"' in html
    assert "V5.6.1" in html


def test_form_speaks_chinese_to_chinese_visitors(public, catalog):
    html = public.get("/zh-hans/report/").content.decode()
    assert '<html lang="zh-Hans"' in html
    assert "网络摄像机" in html  # the product line's Chinese name groups the products


def test_valid_report_gets_tracking_id_and_private_link_shown_once(public, catalog, report_url):
    response = public.post(report_url, valid_post(attachments=[pcap_file()]))
    assert response.status_code == 302
    assert response["Location"] == "/en/report/thanks/"

    report = Report.objects.get()
    year = timezone.localdate().year
    assert report.tracking_id == f"VR-{year}-0001"
    assert report.stage == Stage.RECEIVED and report.inbox_state == "new"
    assert report.product == catalog["cam"] and report.version == "V5.5.0 build 210318"
    assert report.accepted_guidelines_at is not None
    assert report.ack_due_at is not None and report.ack_due_at > report.created_at

    thanks = public.get("/en/report/thanks/")
    html = thanks.content.decode()
    assert report.tracking_id in html
    match = re.search(r"/en/r/([A-Za-z0-9_-]+)/", html)
    assert match is not None
    token = match.group(1)
    assert len(token) >= 43  # 32 random bytes
    assert report.token_hash == hash_token(token)
    assert token not in str(Report.objects.values_list().get())  # only the hash is stored
    assert thanks["Referrer-Policy"] == "no-referrer"
    # Shown once: a second visit does not show it again.
    again = public.get("/en/report/thanks/").content.decode()
    assert token not in again and report.tracking_id not in again

    # The portal link works.
    portal = public.get(f"/en/r/{token}/")
    assert portal.status_code == 200 and report.tracking_id in portal.content.decode()


def test_tracking_numbers_count_up_within_the_year(public, catalog, report_url):
    for n in range(3):
        public.post(report_url, valid_post(reporter_email=f"r{n}@research.test"))
    year = timezone.localdate().year
    assert sorted(Report.objects.values_list("tracking_id", flat=True)) == [
        f"VR-{year}-0001",
        f"VR-{year}-0002",
        f"VR-{year}-0003",
    ]


def test_submission_is_audited_without_report_text(public, catalog, report_url):
    public.post(report_url, valid_post(description="SECRET-DESCRIPTION"))
    event = AuditEvent.objects.get(action="report.submitted")
    assert event.target_id == str(Report.objects.get().public_id)
    assert "SECRET" not in str(event.data)


def test_acknowledgment_mail_carries_link_and_deadline(public, catalog, report_url, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        public.post(report_url, valid_post())
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@research.test"]
    report = Report.objects.get()
    assert report.tracking_id in message.subject
    assert "https://psirt.test/en/r/" in message.body
    assert "5 business days" in message.body
    # The reporter's language only (they wrote in English), text and HTML alternatives alike.
    assert message.body.count(report.tracking_id) == 1
    assert "感谢" not in message.body
    html, mimetype = message.alternatives[0]  # type: ignore[attr-defined]
    assert mimetype == "text/html"
    assert 'lang="en"' in html and 'lang="zh-Hans"' not in html
    assert "/zh-hans/" not in message.body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reporter_name": ""}, "reporter_name"),
        ({"reporter_name": "   "}, "reporter_name"),
        ({"reporter_name": "x" * 201}, "reporter_name"),
        ({"reporter_name": "Ada\x1b[31m"}, "reporter_name"),
        ({"reporter_email": ""}, "reporter_email"),
        ({"reporter_email": "not-an-address"}, "reporter_email"),
        ({"reporter_email": "a@" + "b" * 260 + ".test"}, "reporter_email"),
        ({"phone": "call me maybe"}, "phone"),
        ({"organization": "o" * 201}, "organization"),
        ({"references": "r" * 5001}, "references"),
        ({"product": ""}, "product"),
        ({"product": "no-such-product"}, "product"),
        ({"product": "proto-1"}, "product"),  # not public
        ({"product": "other", "product_other": ""}, "product_other"),
        ({"release": "not-a-uuid"}, "release"),
        ({"release": "00000000-0000-0000-0000-000000000000"}, "release"),
        ({"version": "v" * 101}, "version"),
        ({"description": ""}, "description"),
        ({"description": " \n "}, "description"),
        ({"description": "d" * 50_001}, "description"),
        ({"technical_details": "t" * 200_001}, "technical_details"),
        ({"exploit_public": "maybe"}, "exploit_public"),
        ({"public_exploit": "p" * 10_001}, "public_exploit"),
        ({"plans_to_publish": "tomorrow"}, "plans_to_publish"),
        ({"disclosure_plans": "p" * 10_001}, "disclosure_plans"),
        ({"proposed_disclosure_date": "yesterday"}, "proposed_disclosure_date"),
        ({"proposed_disclosure_date": "2001-01-01"}, "proposed_disclosure_date"),
        ({"proposed_disclosure_date": "9999-12-31"}, "proposed_disclosure_date"),
        ({"proposed_disclosure_date": "2026-02-30"}, "proposed_disclosure_date"),
        ({"credit": "c" * 201}, "credit"),
        ({"pgp_key": "not a key"}, "pgp_key"),
        ({"pgp_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----"}, "pgp_key"),
        ({"accept_guidelines": ""}, "accept_guidelines"),
    ],
)
def test_each_bad_field_gets_its_own_message_and_nothing_is_stored(public, catalog, report_url, overrides, field):
    response = public.post(report_url, valid_post(**overrides))
    assert response.status_code == 422
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert list(form.errors) == [field]  # only the wrong field is flagged
    assert Report.objects.count() == 0
    html = response.content.decode()
    assert "Your report was not sent yet." in html
    # Nothing typed is lost: the other fields come back filled in.
    assert "Unauthenticated RCE in the web UI." in html or field == "description"
    assert 'value="Lab 7"' in html or field == "organization"


def test_release_must_belong_to_the_chosen_product(public, catalog, report_url):
    response = public.post(report_url, valid_post(release=str(catalog["r_nvr"].public_id)))
    assert response.status_code == 422
    assert "release" in response.context["form"].errors


def test_release_chosen_from_the_list_is_linked(public, catalog, report_url):
    public.post(report_url, valid_post(release=str(catalog["r2"].public_id), version=""))
    report = Report.objects.get()
    assert report.release == catalog["r2"] and report.version == "V5.6.1"


def test_product_not_in_catalog_is_kept_as_text(public, catalog, report_url):
    public.post(report_url, valid_post(product="other", product_other="Doorbell DB-2", version="1.0"))
    report = Report.objects.get()
    assert report.product is None and report.product_label == "Doorbell DB-2"


def test_anonymous_credit_and_default_credit(public, catalog, report_url):
    public.post(report_url, valid_post(credit="", credit_anonymous="on"))
    public.post(report_url, valid_post(reporter_email="b@research.test", credit=""))
    anon, named = Report.objects.order_by("number")
    assert anon.credit_anonymous and anon.credit == ""
    assert not named.credit_anonymous and named.credit == "Ada Researcher"


def test_honeypot_filled_is_refused_but_keeps_what_was_typed(public, catalog, report_url):
    response = public.post(report_url, valid_post(website="http://spam.example"))
    assert response.status_code == 422
    assert Report.objects.count() == 0
    assert "looks automated" in response.content.decode()
    assert "Unauthenticated RCE in the web UI." in response.content.decode()


def test_honeypot_is_hidden_from_people(public, catalog, report_url):
    html = public.get(report_url).content.decode()
    assert re.search(r'<div class="hp" aria-hidden="true" hidden>.*name="website"', html, re.S)


def test_hostile_text_is_stored_as_typed_and_shown_escaped(public, catalog, report_url, as_lead):
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>'; DROP TABLE intake_report;--"
    public.post(report_url, valid_post(description=evil, organization="<b>Org</b>", reporter_name="<i>Ada</i>"))
    report = Report.objects.get()
    assert report.description == evil  # stored inert, exactly as typed
    html = as_lead.get(f"/en/desk/inbox/{report.public_id}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Org</b>" not in html and "<i>Ada</i>" not in html


def csrf_post(client, url, data):
    client.get(url)
    token = client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def test_ten_megabytes_in_one_field_gets_a_clear_answer(csrf_client, catalog, report_url):
    response = csrf_post(csrf_client, report_url, valid_post(technical_details="A" * (10 * 1024 * 1024)))
    assert response.status_code == 413
    assert Report.objects.count() == 0
    html = response.content.decode()
    assert "Traceback" not in html and "too large" in html


def test_text_over_a_field_limit_gets_the_field_message(csrf_client, catalog, report_url):
    response = csrf_post(csrf_client, report_url, valid_post(technical_details="A" * 300_000))
    assert response.status_code == 422
    assert "the limit is 200000" in str(response.context["form"].errors["technical_details"])


def test_text_in_a_wrong_encoding_is_refused_cleanly(public, catalog, report_url):
    body = (
        b'--B\r\nContent-Disposition: form-data; name="description"\r\n\r\n'
        + b"\xff\xfe\xfa bad bytes"
        + b"\r\n--B--\r\n"
    )
    response = public.generic("POST", report_url, body, content_type="multipart/form-data; boundary=B")
    assert response.status_code in {400, 403, 422}
    assert Report.objects.count() == 0


def test_files_are_kept_across_a_failed_submission(public, catalog, report_url):
    first = public.post(
        report_url,
        valid_post(description="", attachments=[pcap_file(), pcap_file("poc.py", b"#!/usr/bin/env python3\n")]),
    )
    assert first.status_code == 422
    html = first.content.decode()
    found = re.search(r'name="stash" value="([^"]+)"', html)
    assert found is not None
    stash = found.group(1)
    kept = re.findall(r'name="keep" value="([^"]+)"', html)
    assert len(kept) == 2 and "capture.pcap" in html and "poc.py" in html
    # Second attempt: the description is fixed, no file is picked again, one stashed file is unticked.
    second = public.post(report_url, valid_post(stash=stash, keep=[kept[0]]))
    assert second.status_code == 302
    report = Report.objects.get()
    names = sorted(a.name for a in report.attachments.all())
    assert names == ["capture.pcap"]
    from psirt.lib.crypto import file_store

    assert file_store().read(report.attachments.get().storage_name) == PCAP
    from psirt.intake.models import StashedFile, UploadStash

    assert UploadStash.objects.count() == 0 and StashedFile.objects.count() == 0


def test_stash_expires_after_a_day_with_its_files(public, catalog, report_url):
    from psirt.intake.models import StashedFile
    from psirt.intake.services import purge_expired_stashes
    from psirt.lib.crypto import file_store

    public.post(report_url, valid_post(description="", attachments=[pcap_file()]))
    stashed = StashedFile.objects.get()
    assert file_store().exists(stashed.storage_name)
    assert purge_expired_stashes(now=timezone.now() + dt.timedelta(hours=23)) == 0
    assert purge_expired_stashes(now=timezone.now() + dt.timedelta(hours=25)) == 1
    assert not file_store().exists(stashed.storage_name)
    assert StashedFile.objects.count() == 0


def test_someone_elses_stash_token_gives_nothing(public, catalog, report_url):
    public.post(report_url, valid_post(description="", attachments=[pcap_file()]))
    response = public.post(report_url, valid_post(stash="A" * 43))
    assert response.status_code == 302
    assert Attachment.objects.count() == 0


def test_file_over_the_size_limit_is_named_and_others_kept(public, catalog, report_url, settings):
    settings.PSIRT_MAX_ATTACHMENT_MB = 1
    big = pcap_file("huge.pcap", PCAP + b"\0" * (1024 * 1024))
    response = public.post(report_url, valid_post(attachments=[big, pcap_file("small.pcap")]))
    assert response.status_code == 422
    assert "“huge.pcap” is larger than 1 MB" in response.content.decode()
    assert Report.objects.count() == 0


def test_total_size_limit(public, catalog, report_url, settings):
    settings.PSIRT_MAX_ATTACHMENT_MB = 1
    settings.PSIRT_MAX_ATTACHMENTS_TOTAL_MB = 1
    files = [pcap_file(f"p{i}.pcap", PCAP + b"\0" * 400_000) for i in range(3)]
    response = public.post(report_url, valid_post(attachments=files))
    assert response.status_code == 422
    assert "Together the files are over the limit of 1 MB" in response.content.decode()


def test_whole_body_far_over_the_limits_is_refused_before_reading(public, catalog, report_url, settings):
    settings.PSIRT_MAX_ATTACHMENTS_TOTAL_MB = 1
    response = public.post(
        report_url, valid_post(), CONTENT_LENGTH=str(20 * 1024 * 1024)
    )  # the claimed length is what is checked
    assert response.status_code == 413
    assert "Nothing was saved" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("capture\x00.pcap.exe", "capture.pcap.exe"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        (".htaccess", "htaccess"),
        ("ｆｕｌｌ.pcap", "full.pcap"),
        ("CON.txt", "_CON.txt"),
        ('a"b<c>d|e.txt', "a_b_c_d_e.txt"),
        ("x" * 300 + ".pcapng", "x" * 113 + ".pcapng"),
    ],
)
def test_file_names_are_sanitised(public, catalog, report_url, name, expected):
    public.post(report_url, valid_post(attachments=[pcap_file(name)]))
    assert Report.objects.get().attachments.get().name == expected


def test_content_type_comes_from_the_bytes_not_the_name(public, catalog, report_url):
    elf = b"\x7fELF\x02\x01\x01" + b"\0" * 100
    public.post(report_url, valid_post(attachments=[pcap_file("capture.pcap", elf), pcap_file("real.pcap")]))
    fake, real = Report.objects.get().attachments.order_by("id")
    assert fake.kind == AttachmentKind.EXECUTABLE and fake.name_mismatch
    assert real.kind == AttachmentKind.CAPTURE and not real.name_mismatch


def test_armored_openpgp_description_is_recognised(public, catalog, report_url):
    import pysequoia

    cert = pysequoia.Tsk.generate("t@x.test").extract_certificate()
    armored = pysequoia.encrypt(b"secret details", recipients=[cert]).decode()
    public.post(report_url, valid_post(description=armored))
    assert Report.objects.get().description_is_pgp


def test_valid_public_key_is_accepted_and_private_key_refused(public, catalog, report_url, reporter_key):
    refused = public.post(report_url, valid_post(pgp_key=str(reporter_key)))
    assert refused.status_code == 422 and "private key" in refused.content.decode()
    accepted = public.post(report_url, valid_post(pgp_key=str(reporter_key.extract_certificate())))
    assert accepted.status_code == 302
    assert Report.objects.get().pgp_key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")


def test_form_without_csrf_token_is_refused(csrf_client, catalog, report_url):
    response = csrf_client.post(report_url, valid_post())
    assert response.status_code == 403
    assert Report.objects.count() == 0


def _field_state(fields: dict) -> dict:
    """Everything a field and its widget hold, as plain copies, to tell whether anything changed them."""
    state = {}
    for name, field in fields.items():
        values = {k: v for k, v in vars(field).items() if k not in {"widget", "_choices"}}
        values["widget"] = {k: v for k, v in vars(field.widget).items() if k != "choices"}
        values["widget"]["attrs"] = dict(field.widget.attrs)
        state[name] = repr(values)
    return state


def test_report_forms_share_the_fields_set_up_once(catalog):
    from psirt.intake.forms import ReportForm

    first, second = ReportForm(valid_post()), ReportForm()
    # The same field objects, set up on the class, not a copy per form (each form still has its own mapping).
    assert first.fields["product"] is second.fields["product"] is ReportForm.base_fields["product"]
    assert first.fields is not second.fields
    assert first.fields["reporter_name"].widget.attrs == {"maxlength": "200", "autocomplete": "name"}
    assert first.fields["phone"].widget.attrs == {"maxlength": "50", "autocomplete": "tel", "inputmode": "tel"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_rendering_and_validating_leave_the_shared_fields_as_they_were(public, catalog, language):
    from psirt.intake.forms import ReportForm

    before = _field_state(ReportForm.base_fields)
    public.get(f"/{language}/report/")
    hostile = "<script>alert(1)</script>\"' 漏洞 \u202e"
    bad = valid_post(reporter_name=hostile + "\n", reporter_email="no", phone="x<>", release="zzz", website="x")
    assert public.post(f"/{language}/report/", bad).status_code == 422
    assert public.post(f"/{language}/report/", valid_post(reporter_name="张三")).status_code == 302
    api = {"reporter_name": "张三", "reporter_email": "z@research.test", "product": "cam-x5", "version": "V5.6.1"}
    assert (
        public.post("/api/v1/reports", {**api, "description": hostile, "accept_guidelines": "true"}).status_code == 201
    )
    assert public.post("/api/v1/reports", {**api, "phone": "x<>", "accept_guidelines": "no"}).status_code == 422
    assert _field_state(ReportForm.base_fields) == before
