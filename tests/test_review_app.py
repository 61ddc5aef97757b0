"""The review page over HTTP: escaping, protection against cross-site requests, queue views, blind mode."""

from __future__ import annotations

import http.client
import json
import re
import threading
from contextlib import contextmanager

import pytest
from review_factory import make_review_project

from kwalitatief.review import read_decisions
from kwalitatief.review_app import ReviewAppError, make_server


@contextmanager
def serving(root, reviewer="anna", **kwargs):
    server = make_server(root, reviewer, port=0, **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def request(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    hdrs = {"Host": f"127.0.0.1:{server.port}", **(headers or {})}
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=hdrs)
    response = conn.getresponse()
    payload = response.read().decode("utf-8")
    conn.close()
    return response.status, payload, response


def queue_of(page):
    return json.loads(re.search(r'<script type="application/json" id="queue">(.*?)</script>', page, re.S).group(1))


def _frag(project, seq, doc="int_a"):
    return next(f for f in project["fragments"] if f["doc_id"] == doc and f["seq"] == seq)


@pytest.fixture
def project(tmp_path):
    return make_review_project(tmp_path)


def test_fragment_with_markup_is_shown_as_text_never_as_html(tmp_path, project):
    frag = _frag(project, 1)
    with serving(tmp_path) as server:
        status, html, response = request(server, "GET", f"/card?f={frag['fragment_id']}&c=opinie.proeftuin")
    assert status == 200
    assert "<script>alert(1)</script>" not in html and "<b>heel</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;heel&lt;/b&gt;" in html
    assert "&amp;" in html
    assert '<mark class="evidence">proeftuin</mark>' in html   # the rule's matched words
    assert "script-src 'self'" in response.getheader("Content-Security-Policy")


def test_the_card_shows_document_speaker_region_type_context_score_and_definition(tmp_path, project):
    frag = _frag(project, 3)
    with serving(tmp_path) as server:
        _, html, _ = request(server, "GET", f"/card?f={frag['fragment_id']}&c=doel.samenwerking_regio")
    assert "int_a" in html and "regio Aland" in html and "gemeente" in html and "spreker <strong>R</strong>" in html
    assert "De deadline was veel te krap" in html   # the fragment before, as context
    assert "score 0.52" in html and "drempel 0.50" in html
    assert "woorden die meewogen" in html and "samen optrekken, ~regio~" in html   # why the classifier coded it
    assert "De regio is er om samen te werken." in html   # the codebook definition aside


def test_decisions_need_the_csrf_token_a_local_origin_and_json(tmp_path, project):
    frag = _frag(project, 2)
    body = {"fragment_id": frag["fragment_id"], "code": "knelpunt.tijdsdruk", "decision": "accept"}
    with serving(tmp_path) as server:
        _, page, _ = request(server, "GET", "/")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        assert request(server, "POST", "/api/decide", body)[0] == 403                               # no token
        assert request(server, "POST", "/api/decide", body, {"X-CSRF-Token": "wrong"})[0] == 403
        assert request(server, "POST", "/api/decide", body,
                       {"X-CSRF-Token": token, "Origin": "http://evil.example"})[0] == 403
        assert request(server, "POST", "/api/decide", body,
                       {"X-CSRF-Token": token, "Content-Type": "text/plain"})[0] == 415
        assert request(server, "GET", "/", headers={"Host": "evil.example"})[0] == 403          # DNS rebinding
        assert read_decisions(tmp_path / "codebook/reviews.jsonl")[0] == []
        status, payload, _ = request(server, "POST", "/api/decide", body,
                                     {"X-CSRF-Token": token, "Origin": f"http://127.0.0.1:{server.port}"})
        assert status == 200 and json.loads(payload)["status"] == "accepted"
        status, payload, _ = request(server, "POST", "/api/decide", {**body, "code": "geen.code"},
                                     {"X-CSRF-Token": token})
        assert status == 400 and "'geen.code' staat niet in het codeboek" in json.loads(payload)["error"]
    decisions, _ = read_decisions(tmp_path / "codebook/reviews.jsonl")
    assert [(d.reviewer, d.code, d.decision, d.text) for d in decisions] == [
        ("anna", "knelpunt.tijdsdruk", "accept", frag["text"])]


def test_queue_views_filter_and_order(tmp_path, project):
    with serving(tmp_path) as server:
        everything = queue_of(request(server, "GET", "/")[1])
        assert len(everything) == 5
        assert {c for _, c in queue_of(request(server, "GET", "/?code=opinie.")[1])} == {"opinie.proeftuin"}
        assert len(queue_of(request(server, "GET", "/?region=Bland")[1])) == 2
        assert len(queue_of(request(server, "GET", "/?rtype=provincie")[1])) == 2
        assert len(queue_of(request(server, "GET", "/?doc=int_a")[1])) == 3
        assert len(queue_of(request(server, "GET", "/?source=rule%2Bclassifier")[1])) == 1
        assert len(queue_of(request(server, "GET", "/?source=classifier")[1])) == 2
        # most uncertain first: |score - threshold| = 0.02 (regio), 0.21 (tijdsdruk), 0.31 (proeftuin)
        uncertain = queue_of(request(server, "GET", "/?order=uncertain")[1])
        assert [c for _, c in uncertain[:3]] == ["doel.samenwerking_regio", "knelpunt.tijdsdruk", "opinie.proeftuin"]
        page = request(server, "GET", "/")[1]
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        fid, code = everything[0]
        request(server, "POST", "/api/decide", {"fragment_id": fid, "code": code, "decision": "reject"},
                {"X-CSRF-Token": token})
        assert queue_of(request(server, "GET", "/?status=rejected")[1]) == [[fid, code]]
        assert [fid, code] not in queue_of(request(server, "GET", "/?status=unreviewed")[1])
        progress = json.loads(request(server, "GET", "/api/progress")[1])
        assert progress[0] == {"code": "alle codes", "reviewed": 1, "total": 5}


def test_blind_mode_hides_machine_codes_and_other_reviewers(tmp_path, project):
    frag = _frag(project, 1)
    with serving(tmp_path, "bram") as server:
        page = request(server, "GET", "/")[1]
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        request(server, "POST", "/api/decide", {"fragment_id": frag["fragment_id"], "code": "opinie.proeftuin",
                                                "decision": "reject"}, {"X-CSRF-Token": token})
    with serving(tmp_path, "anna", blind=True, sample=4, seed=3) as server:
        page = request(server, "GET", "/")[1]
        queue = queue_of(page)
        assert len(queue) == 4 and all(code is None for _, code in queue)
        with serving(tmp_path, "anna", blind=True, sample=4, seed=3) as again:
            assert queue_of(request(again, "GET", "/")[1]) == queue            # the sample is seeded
        fid = frag["fragment_id"] if [frag["fragment_id"], None] in queue else queue[0][0]
        html = request(server, "GET", f"/card?f={fid}")[1]
        assert "bron:" not in html and "score" not in html and "bram" not in html
        assert "opinie.proeftuin" not in html.split("jouw codes")[1].split("</div>")[0]
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        status, payload, _ = request(server, "POST", "/api/decide", {"fragment_id": fid, "code": "knelpunt.status",
                                                                     "decision": "add"}, {"X-CSRF-Token": token})
        assert status == 200
        status, html, _ = request(server, "GET", f"/card?f={fid}")
        assert status == 200 and "knelpunt.status" in html.split("jouw codes")[1]   # your own code is shown
        status, payload, _ = request(server, "POST", "/api/decide", {"fragment_id": fid, "code": None,
                                                                     "decision": "done"}, {"X-CSRF-Token": token})
        assert status == 200 and json.loads(payload)["written"] == 3   # the other three codes: absent
    mine = [d for d in read_decisions(tmp_path / "codebook/reviews.jsonl")[0] if d.reviewer == "anna"]
    assert sorted((d.code, d.decision) for d in mine) == [
        ("doel.samenwerking_regio", "reject"), ("knelpunt.status", "add"), ("knelpunt.tijdsdruk", "reject"),
        ("opinie.proeftuin", "reject")]


def test_the_page_needs_the_database_and_a_reviewer(tmp_path):
    make_review_project(tmp_path, build_db=False)
    with pytest.raises(ReviewAppError, match="make run"):
        make_server(tmp_path, "anna", port=0)
    with pytest.raises(ReviewAppError, match="--reviewer"):
        make_server(tmp_path, "  ", port=0)


def _token(server):
    return re.search(r'name="csrf-token" content="([^"]+)"', request(server, "GET", "/")[1]).group(1)


def test_an_unknown_code_is_refused_in_dutch_with_the_closest_ids(tmp_path, project):
    frag = _frag(project, 2)
    with serving(tmp_path) as server:
        token = _token(server)
        for typed, offered in [("knelpunt.tijdsdrk", "'knelpunt.tijdsdruk' (Tijdsdruk)"),     # a typo in the id
                               ("samenwerking in regio", "'doel.samenwerking_regio'")]:     # the label
            status, payload, _ = request(server, "POST", "/api/decide", {"fragment_id": frag["fragment_id"],
                                         "code": typed, "decision": "add"}, {"X-CSRF-Token": token})
            error = json.loads(payload)["error"]
            assert status == 400 and f"'{typed}' staat niet in het codeboek" in error and "Bedoelt u" in error
            assert offered in error, error
        status, payload, _ = request(server, "POST", "/api/decide", {"fragment_id": frag["fragment_id"],
                                     "code": "xyzzy", "decision": "add"}, {"X-CSRF-Token": token})
        assert status == 400 and "Bedoelt u" not in json.loads(payload)["error"]
        assert "Kies een code uit de lijst" in json.loads(payload)["error"]
    assert read_decisions(tmp_path / "codebook/reviews.jsonl")[0] == []


def test_most_uncertain_first_says_when_there_is_no_score_to_order_by(tmp_path, project):
    with serving(tmp_path) as server:
        rules_only = request(server, "GET", "/?order=uncertain&source=rule")[1]
        assert queue_of(rules_only) and "Geen classificatiescore in deze selectie" in rules_only
        assert "documentvolgorde" in rules_only.split('id="order-note"')[1].split("</p>")[0]
        mixed = request(server, "GET", "/?order=uncertain")[1]
        unscored = sum(1 for _, c in queue_of(mixed)) - 3            # three codings have a classifier score
        assert f"{unscored} van 5 coderingen hebben geen classificatiescore" in mixed
        assert 'id="order-note"' not in request(server, "GET", "/?order=document")[1]
        assert 'id="order-note"' not in request(server, "GET", "/?order=uncertain&source=classifier")[1]


def test_accept_and_reject_move_on_unless_the_reviewer_stays(tmp_path, project):
    with serving(tmp_path) as server:
        page = request(server, "GET", "/")[1]
        script = request(server, "GET", "/static/review.js")[1]
    assert re.search(r'<input type="checkbox" id="stay">\s*blijf op kaart', page)
    assert "door naar de volgende codering" in page                      # the help says what a/r do
    assert 'getElementById("stay")' in script          # the page's script reads the box (behaviour:
    # tests/test_review_browser.py presses a and r in Chromium, with and without the box ticked)
