"""How well does pseudonymisation find personal data? Recall and precision per kind (a benchmark, not a test)

Two sets with ground truth (``doc_id,kind,value`` rows: every name, e-mail address, phone number, address,
postcode and social media account the writers put in):

- ``demo``: the transcripts of the manifest, truth in corpus/pii_truth/part*.csv (TXT as is; DOCX from
  corpus/build/docx_src/<doc_id>.txt when the .docx is not built yet);
- ``cases``: corpus/pii_truth/cases/*.txt with corpus/pii_truth/cases/part*.csv, short transcripts written
  for what the red team found missing or over-replaced (lower-case names, possessives, initials and
  titles, handles, 'Hiemstra van het Friese Museum', role labels such as 'Moeder:').

Each set is pseudonymised as the pipeline does it (corpus-wide propagation and tags). Per kind:

- recall: the share of truth values (doc_id, kind, value) none of whose occurrences in the text survives
  un-replaced (an occurrence counts as replaced when it lies inside replaced spans; a possessive ``s`` or
  ``'s`` glued to a person's name may stay: ``[PERSOON-3]s idee``);
- precision: the share of replaced spans of that kind that lie inside an occurrence of a truth value of
  the same kind in the same document (a span that is no truth value, or runs past one, is over-replacement).

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


_POSSESSIVE = r"(?:s|['’]s?)?"


def occurrences(text: str, kind: str, value: str) -> list[tuple[int, int, int]]:
    """(start, end of the value, end with a possessive suffix) of every whole-word occurrence."""
    body = r"\s+".join(re.escape(w) for w in value.split())
    suffix = _POSSESSIVE if kind == "persoon" else ""
    return [(m.start(), m.end("value"), m.end())
            for m in re.finditer(rf"(?<![\w\-])(?P<value>{body}){suffix}(?![\w\-])", text)]


def case_documents(folder: Path) -> list[dict]:
    """The case transcripts (``<doc_id>.txt``) as extracted documents."""
    return [build_transcript(path.stem, text_paragraphs(path.read_text(encoding="utf-8")), "txt").to_dict()
            for path in sorted(folder.glob("*.txt"))]


def score(docs: list[dict], truth: dict[str, list[tuple[str, str]]], result) -> tuple[dict, list[str]]:
    """Per kind: [values found, values, spans right, spans replaced]; and the misses and false positives."""
    kind_of_tag = {name: kind for kind, name in ps.TAG_NAMES.items()}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    notes: list[str] = []
    truth_kinds = {kind for rows in truth.values() for kind, _ in rows}
    for doc, out in zip(docs, result.documents):
        doc_id, text = doc["doc_id"], doc["text"]
        replaced = [(r["orig_start"], r["orig_end"], kind_of_tag[r["tag"][1:].rsplit("-", 1)[0]])
                    for r in out["replacements"]]
        truth_spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for kind, value in truth.get(doc_id, []):
            occ = occurrences(text, kind, value)
            truth_spans[kind] += [(a, c) for a, _, c in occ]
            if not occ:
                notes.append(f"  (not in text) {doc_id} {kind}: {value!r}")
                continue
            counts[kind][1] += 1
            left = [(a, b) for a, b, _ in occ if not any(s <= a and b <= e for s, e, _ in replaced)]
            if left:
                a, b = left[0]
                context = text[max(0, a - 40):b + 20].replace("\n", " ")
                notes.append(f"  MISSED {doc_id} {kind}: {value!r} … {context!r}")
            else:
                counts[kind][0] += 1
        for s, e, kind in replaced:
            counts[kind][3] += 1
            if not any(k == kind for k, _ in truth.get(doc_id, [])) and kind not in truth_kinds:
                continue
            if any(a <= s and e <= c for a, c in truth_spans[kind]):
                counts[kind][2] += 1
            else:
                notes.append(f"  FALSE POSITIVE {doc_id} {kind}: {text[s:e]!r} … {text[max(0, s - 30):e + 30]!r}"
                             .replace("\n", " "))
    return counts, notes


def print_scores(name: str, counts: dict[str, list[int]]) -> None:
    print(f"{name}:  {'kind':9s} {'recall':>15s} {'precision':>15s}")
    totals = [0, 0, 0, 0]
    for kind in sorted(counts):
        found, n, right, spans = counts[kind]
        if not n:   # replaced by design (register organisations), not part of this ground truth
            print(f"{'':{len(name) + 3}s}{kind:9s} (not in the ground truth: {spans} spans replaced)")
            continue
        totals = [t + c for t, c in zip(totals, counts[kind])]
        print(f"{'':{len(name) + 3}s}{kind:9s} {found:4d}/{n:<4d} {found / max(n, 1):5.3f} "
              f"{right:4d}/{spans:<4d} {right / max(spans, 1):5.3f}")
    found, n, right, spans = totals
    print(f"{'':{len(name) + 3}s}{'all':9s} {found:4d}/{n:<4d} {found / max(n, 1):5.3f} "
          f"{right:4d}/{spans:<4d} {right / max(spans, 1):5.3f}")


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
    counts, notes = score(docs, truth, result)

    cases_dir = corpus_dir / "pii_truth" / "cases"
    cases = case_documents(cases_dir)
    case_result = ps.pseudonymise_corpus(cases, {d["doc_id"]: "transcript" for d in cases}, vocab, settings)
    case_counts, case_notes = score(cases, load_truth(cases_dir), case_result)

    print(f"demo: {len(docs)} transcripts ({sum(len(v) for v in truth.values())} truth rows); "
          f"cases: {len(cases)} transcripts")
    print_scores("demo", counts)
    print_scores("cases", case_counts)
    print(f"time (demo): deduce load {t1 - t0:.1f} s; detection + tagging + rewriting {t2 - t1:.2f} s "
          f"({(t2 - t1) / max(len(docs), 1) * 1000:.0f} ms per transcript)")
    if args.show_misses:
        print("\n".join(["demo:"] + notes + ["cases:"] + case_notes))

if __name__ == "__main__":
    main()
