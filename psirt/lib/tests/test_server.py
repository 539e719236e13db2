"""How the serving worker decides that a request has fully arrived (psirt.lib.server.request_size)."""

from __future__ import annotations

import pytest

from psirt.lib.server import HAND_OVER, HEAD_LIMIT, preread_limit, request_size


def test_a_head_without_a_body_is_whole_once_the_blank_line_arrives() -> None:
    assert request_size(b"GET /healthz HTTP/1.1\r\nHost: x\r") is None
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    assert request_size(head) == len(head)


def test_a_body_is_waited_for_as_long_as_its_content_length_says() -> None:
    head = b"POST /en/report/ HTTP/1.1\r\nHost: x\r\ncontent-LENGTH:  12 \r\n\r\n"
    assert request_size(head) == len(head) + 12
    assert request_size(head + b"summary=") == len(head) + 12


@pytest.mark.parametrize(
    "header",
    [
        b"Transfer-Encoding: chunked",
        b"Content-Length: -1",
        b"Content-Length: 12, 12",
        b"Content-Length: \xd9\xa1\xd9\xa2",  # Arabic-Indic digits: isdigit() but not a length
        b"Content-Length: 99999999999999999999",
    ],
)
def test_what_cannot_be_waited_for_is_handed_over_to_be_refused(header: bytes) -> None:
    assert request_size(b"POST / HTTP/1.1\r\n" + header + b"\r\n\r\n") == HAND_OVER


def test_a_body_over_the_largest_report_is_not_read_first() -> None:
    head = f"POST / HTTP/1.1\r\nContent-Length: {preread_limit() + 1}\r\n\r\n".encode()
    assert request_size(head) == HAND_OVER
    head = f"POST / HTTP/1.1\r\nContent-Length: {preread_limit()}\r\n\r\n".encode()
    assert request_size(head) == len(head) + preread_limit()


def test_an_endless_head_is_handed_over_to_be_refused() -> None:
    assert request_size(b"GET / HTTP/1.1\r\nX: " + b"a" * HEAD_LIMIT) == HAND_OVER
    assert request_size(b"GET / HTTP/1.1\r\nX: " + b"a" * 1000) is None


def test_a_worker_process_hands_the_interpreter_between_threads_sooner(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from gunicorn.workers.gthread import ThreadWorker

    from psirt.lib.server import SWITCH_INTERVAL, BufferingWorker

    started: list[bool] = []
    monkeypatch.setattr(ThreadWorker, "init_process", lambda self: started.append(True))
    before = sys.getswitchinterval()
    try:
        BufferingWorker.init_process(BufferingWorker.__new__(BufferingWorker))
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL) and before > SWITCH_INTERVAL
        assert started == [True]  # gunicorn's own start-up still runs
    finally:
        sys.setswitchinterval(before)


def test_a_worker_keeps_what_it_loaded_out_of_the_garbage_collectors_sight(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from gunicorn.workers.gthread import ThreadWorker

    from psirt.lib.server import BufferingWorker

    loaded: list[object] = []
    monkeypatch.setattr(ThreadWorker, "load_wsgi", lambda self: loaded.append(object()))
    try:
        gc.unfreeze()
        BufferingWorker.load_wsgi(BufferingWorker.__new__(BufferingWorker))
        # The application loaded by the worker is frozen: full collections no longer visit it.
        assert loaded and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
