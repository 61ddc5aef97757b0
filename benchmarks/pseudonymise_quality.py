"""How well does pseudonymisation find the personal data of the demo transcripts? (a benchmark, not a test)

Ground truth: corpus/pii_truth/part*.csv (doc_id, kind, value: every name, e-mail, phone number,
address and postcode the transcript writers put in). For every transcript in the manifest this script
extracts the text (TXT as is; DOCX from corpus/build/docx_src/<doc_id>.txt when the .docx is not
built yet), runs the corpus pseudonymisation exactly as the pipeline does and reports

- recall per kind: the share of truth values (doc_id, kind, value) none of whose occurrences in the
  text survives un-replaced (a value whose every occurrence lies inside replaced spans counts as found);
- name precision: the share of replaced person spans whose text overlaps a truth person value of the
  same document (a replaced span that is no truth name is a false positive: over-replacement);
- the time the step takes (deduce load + detection + tagging) and the time without the deduce load.

Usage: .venv/bin/python benchmarks/pseudonymise_quality.py [--list corpus/pseudonyms.csv] [--show-misses]
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kwalitatief import pseudonymise as ps  # noqa: E402
from kwalitatief.config import load_params  # noqa: E402
from kwalitatief.corpus import MANIFEST_COLUMNS, Document, _read_csv  # noqa: E402
from kwalitatief.ingest import ExtractionError, extract_document  # noqa: E402
from kwalitatief.transcripts import build_transcript, text_paragraphs  # noqa: E402


def load_truth(folder: Path) -> dict[str, list[tuple[str, str]]]:
    truth: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path in sorted(folder.glob("part*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                truth[row["doc_id"].strip()].append((row["kind"].strip(), row["value"].strip()))
    return truth


def extract(doc, corpus_dir: Path):
    source = doc.source(corpus_dir)
    if source.exists():
        return extract_document(doc.doc_id, source, doc.doc_type)
    txt = corpus_dir / "build" / "docx_src" / f"{doc.doc_id}.txt"
    if txt.exists():
        return build_transcript(doc.doc_id, text_paragraphs(txt.read_text(encoding="utf-8")), "docx")
    return None


def occurrences(text: str, value: str) -> list[tuple[int, int]]:
    body = r"\s+".join(re.escape(w) for w in value.split())
    return [m.span() for m in re.finditer(rf"(?<![\w\-]){body}(?![\w\-])", text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default=str(ROOT / "params.yaml"))
    parser.add_argument("--list", default=None, help="researcher's list (default: from params)")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()

    params = load_params(args.params)
    corpus = params.get("corpus", {})
    corpus_dir = ROOT / corpus.get("dir", "corpus")
    # the register may be incomplete while the demo corpus is being written: read it leniently
    problems: list[str] = []
    regions = ps.read_table(corpus_dir / "regions.csv")
    respondents = ps.read_table(corpus_dir / "respondents.csv")
    documents = [Document(**{k: r.get(k, "") for k in MANIFEST_COLUMNS})
                 for _, r in _read_csv(corpus_dir / "manifest.csv", MANIFEST_COLUMNS, problems)]
    settings = ps.Settings.from_params(params.get("pseudonymise"))
    plist = ps.load_pseudonym_list(ROOT / (args.list or settings.list_path))
    vocab = ps.build_vocabulary(regions, respondents, plist, settings)
    truth = load_truth(corpus_dir / "pii_truth")

    docs, doc_types = [], {}
    for doc in documents:
        if doc.doc_type != "transcript" or doc.doc_id not in truth:
            continue
        try:
            extracted = extract(doc, corpus_dir)
        except ExtractionError as exc:
            print(f"skip {doc.doc_id}: {exc}", file=sys.stderr)
            continue
        if extracted is not None:
            docs.append(extracted.to_dict())
            doc_types[doc.doc_id] = doc.doc_type

    t0 = time.perf_counter()
    ps.load_deduce()
    t1 = time.perf_counter()
    result = ps.pseudonymise_corpus(docs, doc_types, vocab, settings)
    t2 = time.perf_counter()

    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[str] = []
    truth_persons: dict[str, list[str]] = defaultdict(list)
    for doc, out in zip(docs, result.documents):
        doc_id = doc["doc_id"]
        replaced = [(r["orig_start"], r["orig_end"]) for r in out["replacements"]]
        for kind, value in truth[doc_id]:
            if kind == "persoon":
                truth_persons[doc_id].append(value)
            occ = occurrences(doc["text"], value)
            if not occ:
                misses.append(f"  (not in text) {doc_id} {kind}: {value!r}")
                continue
            found[kind][1] += 1
            if all(any(s <= a and b <= e for s, e in replaced) for a, b in occ):
                found[kind][0] += 1
            else:
                left = [doc["text"][max(0, a - 40):b + 20].replace("\n", " ") for a, b in occ
                        if not any(s <= a and b <= e for s, e in replaced)]
                misses.append(f"  MISSED {doc_id} {kind}: {value!r} … {left[0]!r}")

    tp = fp = 0
    false_positives: list[str] = []
    for doc, out in zip(docs, result.documents):
        doc_id = doc["doc_id"]
        spans_truth = [span for value in truth_persons[doc_id] for span in occurrences(doc["text"], value)]
        for r in out["replacements"]:
            if not r["tag"].startswith("[PERSOON"):
                continue
            a, b = r["orig_start"], r["orig_end"]
            if any(a < e and s < b for s, e in spans_truth):
                tp += 1
            else:
                fp += 1
                false_positives.append(f"  FALSE POSITIVE {doc_id}: {doc['text'][a:b]!r}")

    print(f"documents: {len(docs)} transcripts with ground truth ({sum(len(v) for v in truth.values())} truth rows)")
    total_found = sum(v[0] for v in found.values())
    total = sum(v[1] for v in found.values())
    for kind in sorted(found):
        f, n = found[kind]
        print(f"recall {kind:9s}: {f}/{n} = {f / n:.3f}")
    print(f"recall all      : {total_found}/{total} = {total_found / max(total, 1):.3f}")
    print(f"precision names : {tp}/{tp + fp} = {tp / max(tp + fp, 1):.3f} (replaced person spans that are truth names)")
    print(f"time: deduce load {t1 - t0:.1f} s; detection + tagging + rewriting {t2 - t1:.2f} s "
          f"({(t2 - t1) / max(len(docs), 1) * 1000:.0f} ms per transcript)")
    if args.show_misses:
        print("\n".join(misses + false_positives))


if __name__ == "__main__":
    main()
