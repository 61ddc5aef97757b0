"""End to end: review in the real page (headless Chromium) with the keyboard, then rerun the classify stage."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import yaml
from browser import headless_chromium, missing_reason
from review_factory import build_database
from test_classify import ROOT, STAGE_PARAMS, make_project, synthetic_examples

from kwalitatief.jsonio import read_jsonl
from kwalitatief.review import read_decisions
from kwalitatief.review_app import make_server

pytestmark = [pytest.mark.browser, pytest.mark.skipif(missing_reason() is not None,
                                                      reason=f"browser test skipped: {missing_reason()}")]


def run_classify(root):
    result = subprocess.run([sys.executable, str(ROOT / "pipeline/classify.py")], cwd=root, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return result


def test_a_keyboard_decision_in_the_page_is_saved_and_applied_by_the_pipeline(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    fragments = make_project(tmp_path, synthetic_examples(n=40, rare=2))
    for seq, frag in enumerate(fragments):
        frag.update(seq=seq, start=0, end=len(frag["text"]), role="respondent", speaker="R")
    fragments[0]["text"] += " <img src=x onerror=alert(1)>"   # markup must stay text in the page
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(STAGE_PARAMS), encoding="utf-8")
    (tmp_path / "codebook/reviews.jsonl").touch()
    run_classify(tmp_path)
    merged = list(read_jsonl(tmp_path / "outputs/work/codings.jsonl"))
    machine = list(read_jsonl(tmp_path / "outputs/work/codings_rule.jsonl")) + \
        list(read_jsonl(tmp_path / "outputs/work/codings_classifier.jsonl"))
    build_database(tmp_path, fragments, merged, machine)

    server = make_server(tmp_path, "Anna de Vries", port=0, params=STAGE_PARAMS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    driver = headless_chromium()
    try:
        driver.get(f"http://127.0.0.1:{server.port}/?code=opinie.proeftuin")
        wait = WebDriverWait(driver, 15)
        card = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#card .card")))
        first = (card.get_attribute("data-fragment"), card.get_attribute("data-code"))
        assert first[1] == "opinie.proeftuin"
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("?")
        assert driver.find_element(By.ID, "help").is_displayed()
        body.send_keys("\ue00c")   # Escape closes the help
        body.send_keys("a")
        wait.until(lambda d: "geaccepteerd" in d.find_element(By.CSS_SELECTOR, "#card .status").text)
        body.send_keys("j")
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#card .card").get_attribute("data-fragment") != first[0])
        second = driver.find_element(By.CSS_SELECTOR, "#card .card").get_attribute("data-fragment")
        body.send_keys("r")
        wait.until(lambda d: "afgewezen" in d.find_element(By.CSS_SELECTOR, "#card .status").text)
        assert driver.find_element(By.ID, "position").text.startswith("2 / ")
        assert not driver.find_elements(By.CSS_SELECTOR, "#card img")   # the markup was escaped
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()

    decisions, problems = read_decisions(tmp_path / "codebook/reviews.jsonl")
    assert problems == []
    assert [(d.reviewer, d.fragment_id, d.code, d.decision) for d in decisions] == [
        ("Anna de Vries", first[0], "opinie.proeftuin", "accept"),
        ("Anna de Vries", second, "opinie.proeftuin", "reject")]

    run_classify(tmp_path)   # the pipeline rerun applies the decisions
    after = {(r["fragment_id"], r["code"]): r for r in read_jsonl(tmp_path / "outputs/work/codings.jsonl")}
    accepted = after[first]
    assert (accepted["status"], accepted["reviewer"]) == ("accepted", "Anna de Vries")
    assert (second, "opinie.proeftuin") not in after
