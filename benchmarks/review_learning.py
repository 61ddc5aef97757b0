"""Benchmark (not a test): learning from review, simulated on a gold file (``make simulate-review``).

From the model ``kwal run`` trains (the project's annotations, codebook knowledge and codebook/training/), a
simulated reviewer answers the review queue with the gold file's codes, the classifier is retrained every
``--every`` decisions, and the micro F1 and kappa of the coding of the fragments not yet reviewed are printed
against the decisions made, for the queue "most uncertain first" and in document order, with the number of
decisions after which kappa on the rest reaches 0.8.

    python benchmarks/review_learning.py [GOLD.jsonl] [--every 20]

Needs the outputs of ``kwal run`` (fragments, rule codings). Writes benchmarks/results/review_learning.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kwalitatief.classify import train_from_project  # noqa: E402
from kwalitatief.codebook import load_codebook  # noqa: E402
from kwalitatief.coding import code_fragments, tokenise  # noqa: E402
from kwalitatief.config import load_params  # noqa: E402
from kwalitatief.gold import load_gold  # noqa: E402
from kwalitatief.nlp import load_nlp  # noqa: E402
from kwalitatief.review_learning import ORDERS, GoldSet, decisions_to_reach, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", nargs="?", type=Path, default=ROOT.parent / "shared" / "eval" / "coding_dev.jsonl")
    parser.add_argument("--every", type=int, default=20, help="retrain after this many reviewed fragments")
    parser.add_argument("--kappa", type=float, default=0.8, help="the target kappa on the fragments not reviewed")
    args = parser.parse_args()
    if not args.gold.exists():
        raise SystemExit(f"{args.gold}: no such gold file (give its path).")
    os.chdir(ROOT)
    params = load_params(ROOT / "params.yaml")
    codebook = load_codebook(ROOT / "codebook" / "codebook.yaml")
    project = train_from_project(params, ROOT, cache_dir=ROOT / "outputs" / "cache")
    examples = project.examples + project.standalone
    hits = {fid: set(p) for fid, p in project.rule_preds.items()} | project.standalone_hits
    nlp = load_nlp((params.get("nlp") or {}).get("model", "nl_core_news_sm"))
    fragments = load_gold(args.gold, codebook.code_ids)
    rows = tokenise([g.text for g in fragments], nlp)
    gold = GoldSet(fragments, rows, code_fragments(rows, codebook, nlp))
    report = {"gold": str(args.gold), "every": args.every, "target_kappa": args.kappa, "orders": {}}
    for order in ORDERS:
        start = time.perf_counter()
        points = simulate(examples, hits, gold, codebook.code_ids, params, order, args.every, codebook.version,
                          project.cues)
        reached = decisions_to_reach(points, args.kappa)
        report["orders"][order] = {"points": points, "decisions_to_kappa": reached,
                                   "seconds": round(time.perf_counter() - start, 1)}
    print(f"review learning on {args.gold.name}: {len(fragments)} fragments, retrain every {args.every} decisions")
    print(f"{'decisions':>9}  " + "  ".join(f"{o + ' F1':>15} {'kappa':>6}" for o in ORDERS))
    n = max(len(v["points"]) for v in report["orders"].values())
    for i in range(n):
        cells = []
        for order in ORDERS:
            pts = report["orders"][order]["points"]
            cells.append(f"{pts[i]['micro_f1']:15.3f} {pts[i]['kappa']:6.3f}" if i < len(pts) else " " * 22)
        print(f"{i * args.every:9d}  " + "  ".join(cells))
    for order in ORDERS:
        reached = report["orders"][order]["decisions_to_kappa"]
        print(f"{order:>9}: kappa {args.kappa} on the rest " + (f"after {reached} decisions" if reached is not None
                                                                 else "not reached within the gold file"))
    out = ROOT / "benchmarks" / "results" / "review_learning.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"written: {out}")


if __name__ == "__main__":
    main()
