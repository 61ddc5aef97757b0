"""Benchmark (not a test): the classifier on wording it was not trained on, from our own material.

Each named file of ``classify.training_dir`` (default: ``andere_registers`` and ``contrasten``) is left out of
training in turn -- the model learns from the annotations, the codebook and the other training files -- and its
texts are coded by rules + classifier (as ``kwal eval`` codes them) and scored against their own codes. A lever
that helps on the development set but not here has learnt the development set, not Dutch.

    python benchmarks/heldout_training.py [andere_registers contrasten ...]

Needs the outputs of ``kwal run`` (fragments, rule codings). Writes benchmarks/results/heldout_training.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kwalitatief.classifier.coding_model import CodingModel  # noqa: E402
from kwalitatief.classifier.settings import settings  # noqa: E402
from kwalitatief.classifier.standalone import load_training_texts  # noqa: E402
from kwalitatief.classifier.training import train  # noqa: E402
from kwalitatief.classify import train_from_project  # noqa: E402
from kwalitatief.codebook import load_codebook  # noqa: E402
from kwalitatief.coding import code_fragments, tokenise  # noqa: E402
from kwalitatief.config import load_params  # noqa: E402
from kwalitatief.gold import GoldFragment, predicted_sets, score_gold  # noqa: E402
from kwalitatief.nlp import load_nlp  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", default=["andere_registers", "contrasten"],
                        help="training files (name without .jsonl) to leave out in turn")
    args = parser.parse_args()
    os.chdir(ROOT)
    params = load_params(ROOT / "params.yaml")
    cfg = settings(params)
    codebook = load_codebook(ROOT / "codebook" / "codebook.yaml")
    project = train_from_project(params, ROOT, cache_dir=ROOT / "outputs" / "cache")
    nlp = load_nlp((params.get("nlp") or {}).get("model", "nl_core_news_sm"))
    texts, _ = load_training_texts(ROOT / cfg["training_dir"], codebook.code_ids, codebook.valenced_codes)
    hits = {fid: set(p) for fid, p in project.rule_preds.items()} | project.standalone_hits
    shown = ("cue_features", "cue_weight", "cue_pairs", "standalone_weight", "threshold_method", "nearest_code_ratio",
             "threshold_shrinkage")
    report = {"settings": {k: cfg[k] for k in shown},
              "held_out": {}}
    for name in args.files:
        held = [t for t in texts if Path(t.origin.split(":")[0]).stem == name]
        if not held:
            raise SystemExit(f"{cfg['training_dir']}/{name}.jsonl: no training texts (give a file of that directory).")
        held_origins = {t.origin for t in held}
        keep = [e for e in project.standalone if not set(e.origins) <= held_origins]
        model, _ = train(project.examples + keep, codebook.code_ids, params, codebook.version, hits, project.cues)
        gold = [GoldFragment(str(i), t.text, {c: t.valences.get(c) for c, v in t.labels.items() if v}, i)
                for i, t in enumerate(held)]
        rows = tokenise([g.text for g in gold], nlp)
        rules = code_fragments(rows, codebook, nlp)
        coder = CodingModel(model, cfg["merge_policy"], cfg["valence_from"])
        merged = [coder.merge_rows(list(r) + list(c)) for r, c in zip(rules, model.predict_fragments(rows, rules))]
        s = score_gold(gold, predicted_sets(merged), codebook.code_ids)
        report["held_out"][name] = {k: s[k] for k in ("micro_f1", "kappa", "micro_precision", "micro_recall",
                                                       "macro_f1")} | {"texts": len(held)}
        print(f"{name:24} {len(held):4} texts  micro F1 {s['micro_f1']:.3f}  kappa {s['kappa']:.3f}  "
              f"P {s['micro_precision']:.3f}  R {s['micro_recall']:.3f}")
    out = ROOT / "benchmarks" / "results" / "heldout_training.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written: {out}")


if __name__ == "__main__":
    main()
