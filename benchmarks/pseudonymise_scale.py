"""Does pseudonymisation take linear time in the length of a transcript? (a benchmark, not a test)

Builds one long transcript per size (1, 2, 4, 8, 20 MB by default) by concatenating the demo transcripts
(their extracted text, as the pipeline sees it), and pseudonymises it as the stage does (deduce, the
register and the researcher's list of this project; ``--workers``, default all cores as params.yaml's
``workers: 0``), each size in a fresh process. Prints
seconds per MB (wall clock, and CPU time of the main process: on a shared machine the steadier figure
with one worker) and peak memory per size and the ratio of the largest to the smallest per-MB cost
(1.0 is perfectly linear; before the fix it was about 4 from 1 to 8 MB, and 20 MB did not finish).

Usage: python benchmarks/pseudonymise_scale.py [--sizes 1 2 4 8 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def long_transcript(megabytes: float) -> dict:
    """An extracted transcript of about ``megabytes`` MB: the demo transcripts, again and again."""
    from pseudonymise_quality import extract

    from kwalitatief.corpus import MANIFEST_COLUMNS, Document, _read_csv
    from kwalitatief.transcripts import build_transcript, text_paragraphs

    corpus = ROOT / "corpus"
    rows = _read_csv(corpus / "manifest.csv", MANIFEST_COLUMNS, [])
    texts = []
    for _, row in rows:
        doc = Document(**{k: row.get(k, "") for k in MANIFEST_COLUMNS})
        if doc.doc_type == "transcript":
            extracted = extract(doc, corpus)
            if extracted is not None:
                texts.append(extracted.text.strip())
    one_round = "\n\n".join(texts)
    size = int(megabytes * 1_000_000)
    text = "\n\n".join([one_round] * (size // len(one_round) + 1))[:size]
    text = text[:text.rfind("\n\n")] + "\n"
    return build_transcript("long", text_paragraphs(text), "txt").to_dict()


def measure_one(megabytes: float, workers: int) -> dict:
    """Pseudonymise one long transcript in this process: seconds (deduce already loaded), peak MB."""
    import logging

    from kwalitatief import pseudonymise as ps
    from kwalitatief.parallel import tune_gc

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    tune_gc()
    doc = long_transcript(megabytes)
    settings = ps.Settings()
    corpus = ROOT / "corpus"
    vocab = ps.build_vocabulary(ps.read_table(corpus / "regions.csv"), ps.read_table(corpus / "respondents.csv"),
                                ps.load_pseudonym_list(ROOT / settings.list_path), settings)
    ps.load_deduce()
    started, cpu = time.perf_counter(), time.process_time()
    result = ps.pseudonymise_corpus([doc], {"long": "transcript"}, vocab, settings, workers=workers)
    seconds = time.perf_counter() - started
    return {"mb": len(doc["text"]) / 1e6, "seconds": seconds, "cpu": time.process_time() - cpu,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "replaced": len(result.documents[0]["replacements"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 2, 4, 8, 20])
    parser.add_argument("--workers", type=int, default=0, help="processes (0 = all cores)")
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)   # the child process: one size
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_one(args.one, args.workers)))
        return
    rows = []
    print(f"{'size':>8} {'seconds':>8} {'s/MB':>6} {'CPU s/MB':>8} {'peak MB':>8} {'replaced':>9}")
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--workers", str(args.workers)],
                             check=True, capture_output=True, text=True, cwd=ROOT)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{row['mb']:6.1f} MB {row['seconds']:8.1f} {row['seconds'] / row['mb']:6.2f} "
              f"{row['cpu'] / row['mb']:8.2f} {row['peak_mb']:8.0f} "
              f"{row['replaced']:9d}", flush=True)
    per_mb = [r["seconds"] / r["mb"] for r in rows]
    print(f"per-MB cost, largest / smallest document: {per_mb[-1] / per_mb[0]:.2f} "
          f"(max / min over all sizes: {max(per_mb) / min(per_mb):.2f}; 1.0 = linear)")


if __name__ == "__main__":
    main()
