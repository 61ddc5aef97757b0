"""Time reviewing N fragments with the keyboard in the real review page (headless Chromium).

Run it on a COPY of a project that has been through `make run` (it writes real decisions into that copy's
codebook/reviews.jsonl):

    python benchmarks/review_keyboard.py --root /tmp/project-copy -n 50 --screenshot review.png

Each step is one decision key (a = accept, r = reject, alternating 3:1) and then j (next fragment); the
clock runs from the first key to the moment the n-th decision is saved and shown.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser import headless_chromium, missing_reason  # noqa: E402

from kwalitatief.review import read_decisions  # noqa: E402
from kwalitatief.review_app import make_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--reviewer", default="benchmark")
    parser.add_argument("--query", default="?status=unreviewed", help="queue view to review")
    parser.add_argument("--screenshot", type=Path, default=None, help="PNG of the page before the first key")
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        sys.exit(f"cannot run: {reason}")
    before = len(read_decisions(args.root / "codebook/reviews.jsonl")[0])
    server = make_server(args.root, args.reviewer, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    driver = headless_chromium(1366, 900)
    card = lambda: driver.execute_script(  # noqa: E731
        "const c = document.querySelector('#card .card'); if (!c) return null;"
        "return [c.dataset.fragment + '|' + c.dataset.code, c.dataset.status];")
    try:
        driver.get(f"http://127.0.0.1:{server.port}/{args.query}")
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        wait = WebDriverWait(driver, 30, poll_frequency=0.01)
        wait.until(lambda d: card())
        if args.screenshot:
            driver.save_screenshot(str(args.screenshot))
        body = driver.find_element(By.TAG_NAME, "body")
        start = time.perf_counter()
        for i in range(args.n):
            key = "r" if i % 4 == 3 else "a"
            current = card()[0]
            body.send_keys(key)
            wait.until(lambda d: (c := card()) and c[0] == current and c[1] != "unreviewed")
            if i < args.n - 1:
                body.send_keys("j")
                wait.until(lambda d: (c := card()) and c[0] != current)
        elapsed = time.perf_counter() - start
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()
    after = len(read_decisions(args.root / "codebook/reviews.jsonl")[0])
    print(f"{args.n} fragments reviewed with the keyboard in {elapsed:.2f} s "
          f"({elapsed / args.n * 1000:.0f} ms per fragment, decision + next); {after - before} decisions saved")


if __name__ == "__main__":
    main()
