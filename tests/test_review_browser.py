"""End to end: review in the real page (headless Chromium) with the keyboard, then rerun the classify stage."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import yaml
from browser import headless_chromium, missing_reason
from review_factory import FAST_PARAMS, build_database
from test_classify import ROOT, make_project, synthetic_examples

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
    from selenium.webdriver.support.ui import WebDriverWait

    fragments = make_project(tmp_path, synthetic_examples(n=40, rare=2))
    for seq, frag in enumerate(fragments):
        frag.update(seq=seq, start=0, end=len(frag["text"]), role="respondent", speaker="R")
    fragments[0]["text"] += " <img src=x onerror=alert(1)>"   # markup must stay text in the page
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(FAST_PARAMS), encoding="utf-8")
    (tmp_path / "codebook/reviews.jsonl").touch()
    run_classify(tmp_path)
    merged = list(read_jsonl(tmp_path / "outputs/work/codings"))
    machine = list(read_jsonl(tmp_path / "outputs/work/codings_rule")) + \
        list(read_jsonl(tmp_path / "outputs/work/codings_classifier"))
    build_database(tmp_path, fragments, merged, machine)

    server = make_server(tmp_path, "Anna de Vries", port=0, params=FAST_PARAMS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    driver = headless_chromium()
    try:
        driver.get(f"http://127.0.0.1:{server.port}/?code=opinie.proeftuin")
        wait = WebDriverWait(driver, 30)
        # read the card in one step (the page swaps the card in after every key)
        card = lambda: driver.execute_script(  # noqa: E731
            "const c = document.querySelector('#card .card'); if (!c) return null;"
            "const s = c.querySelector('.status');"
            "return [c.dataset.fragment, c.dataset.code, s ? s.textContent : ''];")
        first = wait.until(lambda d: card())
        assert first[1] == "opinie.proeftuin"
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("?")
        assert driver.find_element(By.ID, "help").is_displayed()
        body.send_keys("\ue00c")   # Escape closes the help
        assert not driver.find_element(By.ID, "help").is_displayed()
        body.send_keys("a")                # accepted, and the card moves on to the next coding
        second = wait.until(lambda d: (card() or [first[0]])[0] != first[0] and card())
        assert driver.find_element(By.ID, "position").text.startswith("2 / ")
        body.send_keys("k")
        wait.until(lambda d: (card() or [""])[0] == first[0] and "geaccepteerd" in card()[2])
        body.send_keys("j")
        wait.until(lambda d: (card() or [""])[0] == second[0])
        driver.find_element(By.ID, "stay").click()   # "blijf op kaart": r keeps this card
        driver.execute_script("document.activeElement.blur()")
        body.send_keys("r")
        wait.until(lambda d: "afgewezen" in (card() or ["", "", ""])[2] and card()[0] == second[0])
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
        ("Anna de Vries", second[0], "opinie.proeftuin", "reject")]

    run_classify(tmp_path)   # the pipeline rerun applies the decisions
    after = {(r["fragment_id"], r["code"]): r for r in read_jsonl(tmp_path / "outputs/work/codings")}
    accepted = after[(first[0], "opinie.proeftuin")]
    assert (accepted["status"], accepted["reviewer"]) == ("accepted", "Anna de Vries")
    assert (second[0], "opinie.proeftuin") not in after
