"""A worker's batch goes over one kept SMTP connection (a real aiosmtpd server): a refused recipient fails its
own row only, a dropped connection is opened again, and a row is marked sent before the server may deliver."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from psirt.mail import services
from psirt.mail.models import OutboxMessage, OutboxStatus
from psirt.mail.services import claim_batch, drain, send_batch, send_mail_bilingual

pytestmark = pytest.mark.django_db


class Server:
    """SMTP handler: records each delivered message with the client port it came over; can refuse an
    address, or drop the connection at MAIL of the n-th message or at the end of data of the n-th."""

    def __init__(self) -> None:
        self.delivered: list[tuple[int, list[str]]] = []
        self.contents: list[bytes] = []
        self.refuse: set[str] = set()
        self.drop_at_mail: int | None = None
        self.drop_at_data: int | None = None
        self.mails_seen = 0
        self.data_seen = 0

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.mails_seen += 1
        if self.mails_seen == self.drop_at_mail:
            server.transport.close()
            return "421 closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_seen += 1
        if self.data_seen == self.drop_at_data:
            server.transport.close()  # the data arrived, but the server never says it took the message
            return "421 closing"
        self.delivered.append((session.peer[1], list(envelope.rcpt_tos)))
        self.contents.append(envelope.original_content)
        return "250 OK"

    @property
    def connections(self) -> int:
        return len({port for port, _to in self.delivered})

    @property
    def recipients(self) -> list[str]:
        return [to for _port, rcpts in self.delivered for to in rcpts]


@pytest.fixture
def server(settings: Any) -> Iterator[Server]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def one_session(settings: Any) -> None:
    """A worker with one SMTP session: its mails go one after the other, each row marked sent alone."""
    settings.PSIRT_SMTP_SESSIONS = 1


def queue(count: int) -> list[OutboxMessage]:
    """`count` mails queued and committed, not yet sent (no task runs them)."""
    with transaction.atomic():
        rows = [
            send_mail_bilingual(
                to=[f"r{i}@research.test"],
                template="intake/mail/new_link",
                context={"report": {"tracking_id": f"VR-2026-{i:04d}"}, "portal_urls": {"en": "https://x.test/r/S/"}},
            )
            for i in range(count)
        ]
    # The test settings' task backend sends at once after the commit: put them back to queued.
    OutboxMessage.objects.update(status=OutboxStatus.QUEUED, sent_at=None, claim_token="")
    return rows


def statuses() -> dict[str, str]:
    return {m.to: m.status for m in OutboxMessage.objects.all()}


@pytest.mark.parametrize("sessions", [1, 4])
def test_a_burst_goes_out_over_the_workers_kept_sessions(server: Server, settings: Any, sessions: int) -> None:
    settings.PSIRT_SMTP_SESSIONS = sessions
    queue(9)
    server.delivered.clear()
    assert drain() == 9
    assert sorted(server.recipients) == sorted(f"r{i}@research.test" for i in range(9))
    assert server.connections == sessions
    assert set(statuses().values()) == {OutboxStatus.SENT}


def test_an_acknowledgment_task_takes_the_other_due_mails_along(server: Server, one_session: None) -> None:
    rows = queue(4)
    server.delivered.clear()
    assert services.send_one(rows[2].pk) == OutboxStatus.SENT
    assert len(server.delivered) == 4 and server.connections == 1
    assert server.delivered[0][1] == ["r2@research.test"]  # the task's own mail first
    # The other rows' tasks find nothing to do and open no connection.
    assert services.send_one(rows[0].pk) == "not due"
    assert len(server.delivered) == 4


def test_a_refused_recipient_fails_its_row_only_and_the_connection_is_kept(server: Server, one_session: None) -> None:
    queue(5)
    server.delivered.clear()
    server.refuse = {"r2@research.test"}
    assert drain() == 4
    assert sorted(server.recipients) == sorted(f"r{i}@research.test" for i in (0, 1, 3, 4))
    assert server.connections == 1
    refused = OutboxMessage.objects.get(status=OutboxStatus.FAILED)
    assert refused.to == '["r2@research.test"]' and refused.last_error == "SMTPRecipientsRefused 550"
    assert refused.context != ""  # kept for the retry


def test_a_connection_dropped_before_the_hand_over_is_opened_again_and_nothing_fails(
    server: Server, one_session: None
) -> None:
    queue(5)
    server.delivered.clear()
    server.drop_at_mail = 3
    assert drain() == 5
    assert sorted(server.recipients) == sorted(f"r{i}@research.test" for i in range(5))  # each exactly once
    assert server.connections == 2
    assert set(statuses().values()) == {OutboxStatus.SENT}
    assert OutboxMessage.objects.filter(attempts__gt=0).count() == 0


def test_a_connection_dropped_at_the_end_of_data_fails_that_row_for_a_retry(server: Server, one_session: None) -> None:
    queue(4)
    server.delivered.clear()
    server.drop_at_data = 2
    assert drain() == 3
    assert len(server.recipients) == 3 and server.connections == 2
    failed = OutboxMessage.objects.get(status=OutboxStatus.FAILED)
    # The server never said it took it: failed again, with its context put back for the retry.
    assert failed.attempts == 1 and failed.sent_at is None and failed.context != ""
    assert failed.last_error == "SMTPServerDisconnected"
    assert drain(now=failed.next_attempt_at) == 1
    assert sorted(server.recipients) == sorted(f"r{i}@research.test" for i in range(4))


def test_each_group_is_marked_sent_in_one_commit_before_the_server_may_deliver_any_of_it(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue(6)
    server.delivered.clear()
    seen_at_mark: list[tuple[int, int]] = []
    real = services.mark_sent

    def watching(messages: list[OutboxMessage]) -> set[int]:
        seen_at_mark.append((len(server.delivered), len(messages)))
        return real(messages)

    monkeypatch.setattr(services, "mark_sent", watching)
    assert drain() == 6
    # Groups of one mail per session (four): when a group was marked, the server had taken none of it.
    assert seen_at_mark == [(0, 4), (4, 2)]
    assert server.connections == 4


def test_a_group_whose_mark_fails_is_discarded_by_the_server_and_retried_once(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue(3)
    server.delivered.clear()

    def failing(messages: list[OutboxMessage]) -> set[int]:
        raise OSError("the database went away")

    monkeypatch.setattr(services, "mark_sent", failing)
    assert drain() == 0
    # The mails' data was out, their end never came: the server discarded all three.
    assert server.delivered == []
    assert set(statuses().values()) == {OutboxStatus.FAILED}
    assert set(OutboxMessage.objects.values_list("last_error", flat=True)) == {"OSError"}
    monkeypatch.undo()
    later = OutboxMessage.objects.order_by("-next_attempt_at").first()
    assert later is not None and drain(now=later.next_attempt_at) == 3
    assert sorted(server.recipients) == sorted(f"r{i}@research.test" for i in range(3))


def test_a_batch_interrupted_before_its_groups_commit_leaves_nothing_delivered_and_no_session_waiting(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue(3)
    server.delivered.clear()

    def interrupted(messages: list[OutboxMessage]) -> set[int]:
        raise KeyboardInterrupt

    monkeypatch.setattr(services, "mark_sent", interrupted)
    batch = claim_batch()
    connection = services.open_connection()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        send_batch(batch, connection)
    assert not any(session.waiting for session in connection.sessions)
    connection.close()
    assert time.monotonic() - started < 2  # dropped, not a QUIT waiting out EMAIL_TIMEOUT (5 s)
    assert server.delivered == []
    assert set(statuses().values()) == {OutboxStatus.SENDING}  # the sweep gives them back later: sent once


@pytest.mark.parametrize("sessions", [1, 4])
def test_a_row_whose_claim_was_lost_is_abandoned_before_the_end_of_data(
    server: Server, settings: Any, sessions: int
) -> None:
    settings.PSIRT_SMTP_SESSIONS = sessions
    queue(3)
    server.delivered.clear()
    batch = claim_batch()
    # The sweep released the second row as stale and another worker claimed it meanwhile.
    OutboxMessage.objects.filter(pk=batch[1].pk).update(claim_token="another-worker")
    connection = services.open_connection()
    started = time.monotonic()
    try:
        outcomes = send_batch(batch, connection)
    finally:
        connection.close()
    # The abandoned session is dropped at once, not closed with a QUIT that the server, still reading the
    # message data, would never answer before EMAIL_TIMEOUT (5 s here).
    assert time.monotonic() - started < 2
    assert outcomes[0] == outcomes[2] == OutboxStatus.SENT and outcomes[1] == "claim lost"
    assert len(server.delivered) == 2  # the server discarded the abandoned one
    assert OutboxMessage.objects.get(pk=batch[1].pk).status == OutboxStatus.SENDING  # the other worker's now


def test_each_mail_is_written_with_its_own_unguessable_boundary_and_reads_back_whole(server: Server) -> None:
    import email
    from email import policy

    queue(3)
    server.delivered.clear()
    assert drain() == 3
    boundaries = []
    for raw in server.contents:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        boundary = parsed.get_boundary()
        assert boundary is not None and boundary.startswith("=_psirt_")
        assert len(boundary) == len("=_psirt_") + 32  # 128 random bits
        boundaries.append(boundary)
        # The boundary closes the message, and the text and HTML parts read back as sent.
        assert raw.rstrip().endswith(f"--{boundary}--".encode())
        types = [part.get_content_type() for part in parsed.walk()]
        assert types == ["multipart/alternative", "text/plain", "text/html"]
        for kind in ("plain", "html"):
            body = parsed.get_body((kind,))
            assert body is not None and "VR-2026-" in body.get_content()
    assert len(set(boundaries)) == 3
