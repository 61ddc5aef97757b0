"""The review server under a rerun, many reviewers at once and malformed requests (issue 13, finding 8)."""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import threading

import pytest
from review_factory import build_database, make_review_project
from test_review_app import request, serving

from kwalitatief.review import read_decisions


@pytest.fixture
def project(tmp_path):
    return make_review_project(tmp_path)


def _token(server) -> str:
    _, page, _ = request(server, "GET", "/")
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_a_decision_on_a_fragment_that_vanished_in_a_rerun_is_refused_with_409(tmp_path, project):
    """Red-team step: the server answered 200 'toegevoegd' for a fragment a rerun had removed."""
    gone, kept = project["fragments"][0], project["fragments"][1]
    with serving(tmp_path) as server:
        token = _token(server)
        # the pipeline runs again while the page is open: the database no longer holds `gone`
        rest = [f for f in project["fragments"] if f["fragment_id"] != gone["fragment_id"]]
        build_database(tmp_path, rest, [c for c in project["merged"] if c["fragment_id"] != gone["fragment_id"]],
                       [c for c in project["rule"] + project["classifier"] if c["fragment_id"] != gone["fragment_id"]])
        status, payload, _ = request(server, "POST", "/api/decide",
                                     {"fragment_id": gone["fragment_id"], "code": "knelpunt.tijdsdruk",
                                      "decision": "add"}, {"X-CSRF-Token": token})
        assert status == 409
        answer = json.loads(payload)
        assert answer["ok"] is False and answer["reload"] is True and "Laad de pagina opnieuw" in answer["error"]
        status, _, _ = request(server, "POST", "/api/decide", {"fragment_id": kept["fragment_id"],
                               "code": "knelpunt.tijdsdruk", "decision": "accept"}, {"X-CSRF-Token": token})
        assert status == 200
        (tmp_path / "outputs/kwalitatief.db").unlink()          # while the report stage rebuilds it
        status, _, _ = request(server, "POST", "/api/decide", {"fragment_id": kept["fragment_id"],
                               "code": "knelpunt.tijdsdruk", "decision": "reject"}, {"X-CSRF-Token": token})
        assert status == 409
    decisions, problems = read_decisions(tmp_path / "codebook/reviews.jsonl")
    assert [(d.fragment_id, d.decision) for d in decisions] == [(kept["fragment_id"], "accept")] and not problems


def test_120_reviewers_at_once_are_all_served_and_every_decision_is_kept(tmp_path, project):
    """Red-team step: 120 simultaneous connections gave 56 'connection reset' (listen backlog 5)."""
    n = 120
    fragments = project["fragments"]
    with serving(tmp_path) as server:
        token = _token(server)
        barrier = threading.Barrier(n)
        results: list[object] = [None] * n

        def reviewer(i: int) -> None:
            frag = fragments[i % len(fragments)]
            body = json.dumps({"fragment_id": frag["fragment_id"], "code": "knelpunt.tijdsdruk", "decision": "accept",
                               "memo": f"beoordelaar {i}"}).encode()
            try:
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
                barrier.wait(timeout=30)      # all connected at once, then all send at once
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                conn.sock = sock
                conn.request("POST", "/api/decide", body=body,
                             headers={"Host": f"127.0.0.1:{server.port}", "Content-Type": "application/json",
                                      "X-CSRF-Token": token})
                results[i] = conn.getresponse().status
                conn.close()
            except Exception as exc:   # noqa: BLE001 - a reset is what we count
                results[i] = repr(exc)

        threads = [threading.Thread(target=reviewer, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    failures = [r for r in results if r != 200]
    assert not failures, f"{len(failures)} of {n} failed: {failures[:5]}"
    decisions, problems = read_decisions(tmp_path / "codebook/reviews.jsonl")
    assert not problems                                   # no torn or malformed line
    assert sorted(d.memo for d in decisions) == sorted(f"beoordelaar {i}" for i in range(n))   # none lost


def _raw(server, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data


@pytest.mark.parametrize("length, body", [
    ("abc", b'{"a": 1}'),
    ("-5", b'{"a": 1}'),
    (None, b"[" * 30000 + b"]" * 30000),      # 30,000-deep JSON
    (None, b'{"fragment_id": "\xff\xfe"}'),    # invalid UTF-8
    (None, b'{"fragment_id": '),               # cut-off JSON
])
def test_malformed_requests_get_400_and_no_traceback(tmp_path, project, caplog, capfd, length, body):
    """Red-team step: `Content-Length: abc` and a 30,000-deep body dropped the connection with a traceback."""
    caplog.set_level(logging.DEBUG)
    with serving(tmp_path) as server:
        token = _token(server)
        head = (f"POST /api/decide HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
                f"X-CSRF-Token: {token}\r\nContent-Length: {length if length is not None else len(body)}\r\n"
                "Connection: close\r\n\r\n").encode()
        status, data = _raw(server, head, body)
        assert status == 400, data[:300]
        assert request(server, "GET", "/api/progress")[0] == 200      # and the server goes on
    assert "Traceback" not in caplog.text and "Traceback" not in capfd.readouterr().err
    assert read_decisions(tmp_path / "codebook/reviews.jsonl")[0] == []
