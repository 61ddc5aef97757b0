"""Benchmark (not a test): precision/recall/F1 of the rule coder against manual annotations.

Codes the annotation texts through the same path as ``kwal code-file`` and compares, per category (doel,
knelpunt, opinie) and per code, the (text, code) pairs; for opinie codes found by both it also reports how
often the valence agrees.

    python benchmarks/rule_quality.py                          # all codebook/annotations/*.jsonl
    python benchmarks/rule_quality.py codebook/annotations/handcoded_sample.jsonl --details
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kwalitatief.codebook import load_codebook  # noqa: E402
from kwalitatief.coding import code_file  # noqa: E402
from kwalitatief.nlp import load_nlp, model_name  # noqa: E402


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--codebook", default=ROOT / "codebook" / "codebook.yaml", type=Path)
    parser.add_argument("--model", default="nl_core_news_sm")
    parser.add_argument("--exclude-coder", action="append", default=[],
                        help="leave out annotations by this coder (e.g. lead-sample)")
    parser.add_argument("--details", action="store_true", help="print every disagreement")
    args = parser.parse_args()
    files = args.files or sorted((ROOT / "codebook" / "annotations").glob("*.jsonl"))
    items = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row.get("coder") not in args.exclude_coder:
                    items.append(row)
    codebook = load_codebook(args.codebook)
    nlp = load_nlp(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        inp.write_text("".join(json.dumps({"id": i, "text": r["text"]}, ensure_ascii=False) + "\n"
                               for i, r in enumerate(items)), encoding="utf-8")
        code_file(str(inp), str(out), codebook, nlp)
        predicted = {row["id"]: row["codes"] for row in map(json.loads, out.read_text().splitlines())}
    counts: dict[str, Counter] = {}
    valence = Counter()
    for i, item in enumerate(items):
        gold = {c["code"]: c.get("valence") for c in item["codes"]}
        pred = {c["code"]: c.get("valence") for c in predicted.get(i, [])}
        for code in set(gold) | set(pred):
            c = counts.setdefault(code, Counter())
            key = "tp" if code in gold and code in pred else ("fp" if code in pred else "fn")
            c[key] += 1
            if key == "tp" and code.startswith("opinie."):
                valence["agree" if gold[code] == pred[code] else "disagree"] += 1
            if args.details and key != "tp":
                ev = next((c2.get("evidence") for c2 in predicted.get(i, []) if c2["code"] == code), "")
                print(f"{key.upper()} {code} [{item['doc_id']}] {ev!r} :: {item['text'][:160]}")
    print(f"{len(items)} annotated fragments from {len(files)} file(s); codebook {codebook.version}; "
          f"pipeline {model_name(nlp)}")
    print(f"{'':34} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}")
    for category in ("doel", "knelpunt", "opinie"):
        total = Counter()
        for code, c in counts.items():
            if code.startswith(category + "."):
                total.update(c)
        p, r, f = prf(total["tp"], total["fp"], total["fn"])
        print(f"{category.upper():34} {p:6.2f} {r:6.2f} {f:6.2f} {total['tp']:4} {total['fp']:4} {total['fn']:4}")
    print()
    for code in sorted(counts):
        c = counts[code]
        p, r, f = prf(c["tp"], c["fp"], c["fn"])
        print(f"  {code:32} {p:6.2f} {r:6.2f} {f:6.2f} {c['tp']:4} {c['fp']:4} {c['fn']:4}")
    if valence:
        n = valence["agree"] + valence["disagree"]
        print(f"\nopinie valence agreement where both coded the opinie: {valence['agree']}/{n}")


if __name__ == "__main__":
    main()
