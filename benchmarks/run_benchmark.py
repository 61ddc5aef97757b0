"""The benchmark: the pipeline on the scale corpus, per stage and per component, against naive baselines.

Run from the repository root (``make bench``)::

    python benchmarks/run_benchmark.py [--workers 0] [--rebuild] [--skip-incremental]

1. Builds the scale corpus once (benchmarks/make_scale_corpus.py -> benchmarks/scale_corpus; ``--rebuild``
   builds it again) and a scratch project around it in benchmarks/results/project (the scale corpus, a copy
   of codebook/ with the annotations' doc_ids renamed to the scale corpus' variant 0, params.yaml, dvc.yaml,
   and links to pipeline/ and src/).
2. Cold run: every stage's entry point (pipeline/<stage>.py, i.e. the library functions the stage calls) in
   its own process, with empty caches: wall time, throughput and peak memory (the largest process by
   ``getrusage`` and the whole process tree — stage plus worker pool — sampled every 50 ms, as the sum of
   PSS, which counts the pages forked workers share with their parent once, and as the sum of RSS).
3. Components, each in its own process, with their naive baselines in the same run: PDF extraction (the
   library, all workers) against pdfplumber ``extract_text`` page by page, and in one process against raw
   PDFium text extraction of the same files (pages/s and the ratio, CPU time); segmentation + lemmatisation
   (all workers, from the pseudonymised documents) against one ``nlp(text)`` call per fragment that keeps
   the same token rows (one process); rule coding (all workers, as the stage runs it, and in one process).
4. Incremental, through DVC as ``kwal run`` does it: ``dvc commit`` records the cold run, then ``dvc repro``
   with nothing changed, after editing one transcript, and after editing the codebook; which stages ran and
   how long it took.

5. The real-engine PDFs of tests/data/pdfs (benchmarks/real_pdfs.py): per file the share of reference
   paragraphs recovered whole, of transitions in reading order, header/footer leaks, pages/s and the ratio
   to raw PDFium.

Prints a table and writes everything to benchmarks/results/benchmark.json. Benchmarks are not tests: the
targets are printed next to the figures, nothing fails on a miss.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
SCALE = BENCH / "scale_corpus"
RESULTS = BENCH / "results"
PROJECT = RESULTS / "project"
STAGES = ["prepare", "classify", "analyse"]   # analyse: the steps aggregate, conclusions and report in one process
DEMO = RESULTS / "demo"
TARGETS = {"pdf_pages_per_s": 150, "pdf_vs_pdfium": 0.5, "segment_tokens_per_s": 100_000, "code_fragments_per_s": 5_000,
           "pipeline_s": 120, "peak_memory_mb": 2048, "incremental_s": 10}
FALLBACK = "blank:nl+lookup"


# --------------------------------------------------------------------------------------------- measuring

def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``; wall time, peak RSS of the largest process (getrusage), and the peak memory of the process
    tree (stage plus worker pool, sampled every 50 ms) as the sum of PSS and, for comparison, of RSS."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak_tree = peak_tree_rss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_tree_rss
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            total = total_rss = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        rss = p.memory_info().rss
                    except psutil.NoSuchProcess:
                        continue
                    total_rss += rss
                    total += _pss(p.pid, rss)
            except psutil.NoSuchProcess:
                break
            peak_tree = max(peak_tree, total)
            peak_tree_rss = max(peak_tree_rss, total_rss)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    # CPU seconds of the whole tree (wait4 counts the descendants each process waited for): on a shared
    # machine the wall time depends on the load, the CPU time much less
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "rc": proc.returncode,
            "output": output,
            "peak_process_mb": round(usage.ru_maxrss / 1024, 1), "peak_tree_mb": round(peak_tree / 2**20, 1),
            "peak_tree_rss_mb": round(peak_tree_rss / 2**20, 1)}


def _pss(pid: int, rss: int) -> int:
    """Proportional set size of a process (shared pages divided among the processes sharing them), or its
    RSS where the kernel does not tell. Summing RSS over a forked worker pool counts the pages the workers
    share with their parent once per process: RSS sums overstate the memory the tree uses."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss


def component(name: str, workers: int, extra: list[str] | None = None) -> dict[str, Any]:
    """A component measurement in its own process (this script with ``--component``)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--component", name, "--workers", str(workers),
           *(extra or [])]
    result = measure(cmd, PROJECT)
    lines = [ln for ln in result["output"].splitlines() if ln.startswith("{")]
    if result["rc"] != 0 or not lines:
        raise SystemExit(f"component {name} failed:\n{result['output'][-3000:]}")
    return {**json.loads(lines[-1]), "peak_process_mb": result["peak_process_mb"],
            "peak_tree_mb": result["peak_tree_mb"]}


# --------------------------------------------------------------------------------------------- components

def pdf_against_pdfium(paths: list[Path]) -> dict[str, Any]:
    """Our PDF extraction and raw PDFium text extraction (``get_text_range`` of every page) of the same
    files, one process each in turn, CPU time: pages/s and their ratio (target ≥ 0.5)."""
    sys.path.insert(0, str(BENCH))
    from real_pdfs import raw_pdfium

    import pdfplumber.table  # noqa: F401  (imported once per process by the first ruled table; not per page)

    from kwalitatief.pdf import extract_pdf

    started = time.process_time()
    pages = sum(raw_pdfium(p) for p in paths)
    raw = time.process_time() - started
    started = time.process_time()
    for p in paths:
        extract_pdf(p.stem, p)
    ours = time.process_time() - started
    return {"files": len(paths), "pages": pages, "seconds": ours, "pages_per_s": pages / ours,
            "raw_pages_per_s": pages / raw, "ratio": raw / ours}


def _register():
    sys.path.insert(0, str(ROOT / "src"))
    from kwalitatief.config import load_params
    from kwalitatief.corpus import load_register

    params = load_params("params.yaml")
    corpus = params.get("corpus", {})
    return params, load_register(corpus.get("dir", "corpus"), corpus.get("manifest"),
                                 corpus.get("respondents"), corpus.get("regions"))


def run_component(name: str, workers: int, sample: int) -> dict[str, Any]:
    """Executed in a child process, cwd = the scratch project."""
    import dataclasses

    params, reg = _register()
    from kwalitatief.parallel import tune_gc

    tune_gc()   # as every stage does (pipeline/_common.py)
    if name == "pdf_vs_pdfium":
        return pdf_against_pdfium([d.source(reg.corpus_dir) for d in reg.documents
                                   if d.path.lower().endswith(".pdf")])
    if name in ("pdf", "pdf_baseline"):
        pdfs = [d for d in reg.documents if d.path.lower().endswith(".pdf")]
        if name == "pdf":
            from kwalitatief.ingest import extract_corpus

            sub = dataclasses.replace(reg, documents=pdfs)
            t = time.perf_counter()
            result = extract_corpus(sub, workers=workers, cache_dir=None)
            dt = time.perf_counter() - t
            pages = sum(d.get("n_pages") or 0 for d in result.documents)
            words = sum(len(d["text"].split()) for d in result.documents)
            return {"seconds": dt, "pages": pages, "words": words, "pages_per_s": pages / dt,
                    "words_per_s": words / dt, "problems": len(result.problems)}
        import pdfplumber

        pages = 0
        t = time.perf_counter()
        for doc in pdfs:
            with pdfplumber.open(doc.source(reg.corpus_dir)) as pdf:
                for page in pdf.pages:
                    page.extract_text()
                    pages += 1
                    if pages >= sample:
                        break
            if pages >= sample:
                break
        dt = time.perf_counter() - t
        return {"seconds": dt, "pages": pages, "pages_per_s": pages / dt}

    from kwalitatief.jsonio import read_json, read_jsonl
    from kwalitatief.nlp import load_nlp

    model = (params.get("nlp") or {}).get("model", "nl_core_news_sm")
    if name == "segment":
        import orjson

        from kwalitatief.segment import segment_corpus_jsonl

        metas = {d.doc_id: dataclasses.asdict(d) for d in reg.documents}
        docs = [read_json(p) for p in sorted(Path("outputs/work/pseudonymised").glob("*.json"))]
        settings = {**params.get("segment", {}), **params.get("nlp", {})}
        load_nlp(model)
        t = time.perf_counter()   # what the stage runs: fragments with token rows, as JSON lines
        texts, _ = segment_corpus_jsonl(docs, metas, settings, workers=workers, cache_dir=None)
        dt = time.perf_counter() - t
        fragments = [orjson.loads(line) for text in texts for line in text.split("\n") if line]
        tokens = sum(len(f["tokens"]) for f in fragments)
        words = sum(len(d["text"].split()) for d in docs)
        return {"seconds": dt, "tokens": tokens, "words": words, "fragments": len(fragments),
                "tokens_per_s": tokens / dt, "words_per_s": words / dt, "fragments_per_s": len(fragments) / dt}
    if name == "segment_baseline":
        nlp = load_nlp(model)
        texts = [f["text"] for _, f in zip(range(sample), read_jsonl("outputs/work/fragments"))]
        from kwalitatief.nlp import token_rows

        t = time.perf_counter()
        tokens = 0
        for text in texts:   # the same data the stage stores: token rows with lemmas, sentence starts
            rows, _ = token_rows(nlp(text))
            tokens += len(rows)
        dt = time.perf_counter() - t
        return {"seconds": dt, "tokens": tokens, "fragments": len(texts), "tokens_per_s": tokens / dt,
                "fragments_per_s": len(texts) / dt}
    if name in ("code", "code_1"):
        from kwalitatief.codebook import load_codebook
        from kwalitatief.coding import code_corpus, code_fragments, previous_questions

        settings = params.get("code", {}) or {}
        codebook = load_codebook(settings.get("codebook", "codebook/codebook.yaml"))
        nlp = load_nlp(model)
        fragments = _fragments_with_tokens(params, reg)
        codable = [f for f in fragments if f.get("codable")]
        t = time.perf_counter()
        if name == "code":   # what the stage runs: per document, on the worker pool (no cache)
            results, _ = code_corpus(fragments, codebook, model, workers=workers, cache_dir=None)
        else:                # the rule coder itself, one process
            contexts = previous_questions(fragments, codable)
            results = code_fragments(codable, codebook, nlp, contexts=contexts)
        dt = time.perf_counter() - t
        return {"seconds": dt, "fragments": len(codable), "codings": sum(map(len, results)),
                "fragments_per_s": len(codable) / dt}
    raise SystemExit(f"unknown component {name}")


def _fragments_with_tokens(params: dict[str, Any], reg: Any) -> list[dict[str, Any]]:
    """The fragments with their token rows: from the segment cache of the cold run (the pipeline's
    fragment files do not hold them)."""
    import dataclasses

    from kwalitatief.jsonio import read_json
    from kwalitatief.segment import segment_corpus

    metas = {d.doc_id: dataclasses.asdict(d) for d in reg.documents}
    docs = [read_json(p) for p in sorted(Path("outputs/work/pseudonymised").glob("*.json"))]
    settings = {**params.get("segment", {}), **params.get("nlp", {})}
    fragments, _ = segment_corpus(docs, metas, settings, workers=1, cache_dir="outputs/cache")
    return fragments


# --------------------------------------------------------------------------------------------- the project

def scale_corpus_size() -> dict[str, Any] | None:
    """What make_scale_corpus.py built (benchmarks/scale_corpus/size.json), or None (not built, or by a
    version that built it to another size)."""
    sys.path.insert(0, str(BENCH))
    from make_scale_corpus import STUDY_PDF_PAGES, STUDY_TRANSCRIPT_WORDS

    try:
        size = json.loads((SCALE / "size.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    asked = size.get("asked") or {}
    if asked.get("transcript_words") != STUDY_TRANSCRIPT_WORDS or asked.get("pdf_pages") != STUDY_PDF_PAGES \
            or asked.get("factor") or not (SCALE / "manifest.csv").exists():
        return None
    return size


def prepare_project(rebuild: bool) -> None:
    """The scratch project around the scale corpus, which is built (again) when asked, absent, or of
    another size than the study's (make_scale_corpus.py's defaults)."""
    if rebuild or scale_corpus_size() is None:
        subprocess.run([sys.executable, str(BENCH / "make_scale_corpus.py"), "--out", str(SCALE)], check=True)
    shutil.rmtree(PROJECT, ignore_errors=True)
    PROJECT.mkdir(parents=True)
    shutil.copytree(SCALE, PROJECT / "corpus")
    shutil.copytree(ROOT / "codebook", PROJECT / "codebook")
    for path in (PROJECT / "codebook" / "annotations").glob("*.jsonl"):  # variant 0 is the demo transcript
        lines = path.read_text(encoding="utf-8").splitlines()
        out = []
        for line in lines:
            if line.strip():
                obj = json.loads(line)
                obj["doc_id"] = re.sub(r"^int_(r\d+)$", r"int_s00_\1", obj.get("doc_id", ""))
                line = json.dumps(obj, ensure_ascii=False)
            out.append(line)
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
    _method(PROJECT)


def _method(project: Path) -> None:
    """The study's method in a scratch project: settings, dvc.yaml, and links to pipeline/ and src/."""
    for name in ("params.yaml", "dvc.yaml", "study.yaml"):
        shutil.copy(ROOT / name, project / name)
    for name in ("pipeline", "src"):
        (project / name).symlink_to(ROOT / name)
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=project, check=True)


def prepare_demo() -> None:
    """The demo study (corpus/ and codebook/ of this repository) in a scratch project."""
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir(parents=True)
    shutil.copytree(ROOT / "corpus", DEMO / "corpus")
    shutil.copytree(ROOT / "codebook", DEMO / "codebook")
    _method(DEMO)


def corpus_counts() -> dict[str, int]:
    sys.path.insert(0, str(ROOT / "src"))
    from kwalitatief.jsonio import read_json, read_jsonl

    pages = words = transcript_words = 0
    for path in (PROJECT / "outputs/private/extracted").glob("*.json"):
        doc = read_json(path)
        n = len(doc["text"].split())
        words += n
        pages += doc.get("n_pages") or 0
        if doc.get("source_type") != "pdf" and not doc.get("n_pages"):
            transcript_words += n
    tokens = fragments = codable = 0
    for frag in read_jsonl(PROJECT / "outputs/work/fragments"):
        fragments += 1
        tokens += len(frag["lemmas"].split())   # the token rows stay in the segment cache; lemmas: one per word token
        codable += bool(frag.get("codable"))
    codings = sum(1 for _ in read_jsonl(PROJECT / "outputs/work/codings"))
    return {"pdf_pages": pages, "words": words, "transcript_words": transcript_words, "tokens": tokens,
            "fragments": fragments, "codable_fragments": codable, "codings": codings,
            "transcripts": (scale_corpus_size() or {}).get("transcripts", 0)}


def print_size(counts: dict[str, int]) -> None:
    """The scale corpus against the study's size (issue 19: 1,030,586 transcript words in 800 interviews,
    2,943 PDF pages), so that figures compare across versions whatever the size of the demo."""
    print(f"\nscale corpus: {counts['transcripts']:,} transcripts, {counts['transcript_words']:,} transcript words "
          f"(extracted; the study: 1,030,586 in 800 interviews), {counts['pdf_pages']:,} PDF pages (the study: "
          f"2,943), {counts['words']:,} words in all, {counts['tokens']:,} tokens, {counts['fragments']:,} fragments "
          f"({counts['codable_fragments']:,} codable), {counts['codings']:,} codings")


def stage_throughput(stage: str, wall: float, counts: dict[str, int]) -> str:
    per = {
        "extract": f"{counts['pdf_pages'] / wall:,.0f} pages/s, {counts['words'] / wall:,.0f} words/s",
        "pseudonymise": f"{counts['transcript_words'] / wall:,.0f} transcript words/s",
        "segment": f"{counts['tokens'] / wall:,.0f} tokens/s, {counts['words'] / wall:,.0f} words/s, "
                   f"{counts['fragments'] / wall:,.0f} fragments/s",
        "code": f"{counts['codable_fragments'] / wall:,.0f} codable fragments/s",
        "classify": f"{counts['codable_fragments'] / wall:,.0f} codable fragments/s",
    }
    return per.get(stage, f"{counts['fragments'] / wall:,.0f} fragments/s, {counts['codings'] / wall:,.0f} codings/s")


def dvc_repro() -> dict[str, Any]:
    # the stages' commands run `python`: the interpreter of this script (the project's venv) must come first
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = measure([sys.executable, "-m", "dvc", "repro"], PROJECT, env)
    ran = re.findall(r"Running stage '([^']+)'", result["output"])
    caches = re.findall(r"(\w+): .*?cache: (\d+) reused, (\d+) new", result["output"])
    if result["rc"] != 0:
        print(result["output"][-3000:])
    return {"wall_s": result["wall_s"], "rc": result["rc"], "stages_run": ran,
            "cache": [f"{c[0]}: {c[1]} reused, {c[2]} new" for c in caches],
            "peak_tree_mb": result["peak_tree_mb"]}


def kwal_run(project: Path) -> dict[str, Any]:
    """``kwal run`` in ``project``: wall time, exit code, the seconds of each stage that ran (its line in
    the output), the peak memory of the process tree (PSS)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(ROOT / "src")}
    result = measure([sys.executable, "-m", "kwalitatief.cli", "run"], project, env)
    if result["rc"] != 0:
        print(result["output"][-3000:])
    stages = {m[0]: float(m[1]) for m in re.findall(r"^  (\w+) .*\((\d+(?:\.\d+)?) s\)$", result["output"], re.M)}
    return {"wall_s": result["wall_s"], "cpu_s": result["cpu_s"], "rc": result["rc"], "stages_s": stages,
            "peak_tree_mb": result["peak_tree_mb"]}


def edit_transcript(project: Path, pattern: str, i: int) -> str:
    """Append a sentence to the ``i``-th transcript matching ``pattern`` (plain text)."""
    path = sorted((project / "corpus" / "transcripts").glob(pattern))[i]
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(text + f"\n\nR: Daar wil ik nog aan toevoegen ({i}) dat de samenwerking in de regio echt beter "
                    "moet.\n", encoding="utf-8")
    return path.name


def startup_seconds(project: Path) -> dict[str, float]:
    """Per stage: starting its process and its top-level imports (``pipeline/<stage>.py --help``), the part
    of its time that does not depend on the data."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = {}
    for stage in STAGES:
        best = min(measure([sys.executable, f"pipeline/{stage}.py", "--help"], project, env)["wall_s"]
                   for _ in range(2))
        out[stage] = best
    return out


def incremental(project: Path, pattern: str, repeat: int, codebook_edit: bool = True) -> dict[str, Any]:
    """Through ``kwal run``: nothing changed, one transcript edited (best of ``repeat``, a different transcript
    each time) and the codebook edited; plus the fixed cost (process starts, imports, DVC)."""
    out: dict[str, Any] = {}
    noop = [kwal_run(project) for _ in range(repeat)]
    out["nothing_changed"] = min(noop, key=lambda r: r["wall_s"])
    edits = []
    for i in range(repeat):
        name = edit_transcript(project, pattern, i)
        edits.append({"file": name, **kwal_run(project)})
    out["edited_transcript"] = min(edits, key=lambda r: r["wall_s"])
    out["edited_transcript_all_s"] = [r["wall_s"] for r in edits]
    if codebook_edit:
        with open(project / "codebook" / "codebook.yaml", "a", encoding="utf-8") as handle:
            handle.write("\n# benchmark: an edit of the codebook\n")
        out["edited_codebook"] = kwal_run(project)
    startup = startup_seconds(project)
    out["fixed_cost"] = {"startup_s": startup, "startup_total_s": round(sum(startup.values()), 2),
                         "dvc_and_kwal_noop_s": out["nothing_changed"]["wall_s"]}
    return out


def print_incremental(label: str, inc: dict[str, Any]) -> None:
    print(f"\n{label}, through kwal run:")
    for name in ("nothing_changed", "edited_transcript", "edited_codebook"):
        if name in inc:
            r = inc[name]
            stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages_s"].items()) or "none"
            extra = f" (all: {inc['edited_transcript_all_s']})" if name == "edited_transcript" else ""
            outside = r["wall_s"] - sum(r["stages_s"].values())
            print(f"  {name.replace('_', ' '):<18} {r['wall_s']:7.2f} s (CPU {r['cpu_s']:.1f} s){extra}  peak "
                  f"{r['peak_tree_mb']:.0f} MB PSS; "
                  f"stages (s): {stages}; outside the stages (DVC, kwal run's checks) {outside:.1f} s")
    fixed = inc["fixed_cost"]
    print(f"  fixed cost: nothing-changed run {fixed['dvc_and_kwal_noop_s']:.2f} s; process start + top-level "
          f"imports per stage {fixed['startup_s']} = {fixed['startup_total_s']:.2f} s")


def incremental_cases(report: dict[str, Any], args: argparse.Namespace) -> None:
    """The incremental runs on the scale corpus (a transcript nobody annotated: variant 7) and on the demo
    (its transcripts are all annotated), unless skipped."""
    if not args.skip_incremental:
        report["incremental"] = incremental(PROJECT, "int_s07_*.txt", args.repeat)
    if not args.skip_demo:
        prepare_demo()
        report["demo_cold"] = kwal_run(DEMO)
        report["demo_incremental"] = incremental(DEMO, "int_r*.txt", args.repeat)


def print_incremental_cases(report: dict[str, Any]) -> None:
    if "incremental" in report:
        print_incremental("scale corpus", report["incremental"])
    if "demo_incremental" in report:
        print(f"\ndemo corpus, whole run (kwal run, cold): {report['demo_cold']['wall_s']:.2f} s")
        print_incremental("demo corpus (an annotated transcript edited)", report["demo_incremental"])


# --------------------------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description="kwalitatief benchmark (see the module docstring)")
    parser.add_argument("--workers", type=int, default=0, help="processes (0 = all cores)")
    parser.add_argument("--rebuild", action="store_true", help="build the scale corpus again")
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--skip-demo", action="store_true", help="no incremental runs on the demo corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per incremental case (the best is reported)")
    parser.add_argument("--quick", action="store_true",
                        help="the whole run through kwal run instead of stage by stage, no component baselines")
    parser.add_argument("--baseline-pages", type=int, default=120, help="pages for the pdfplumber baseline")
    parser.add_argument("--baseline-fragments", type=int, default=20000, help="fragments for the nlp() baseline")
    parser.add_argument("--component", help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.component:
        print(json.dumps(run_component(args.component, args.workers, args.sample)))
        return

    cores = os.cpu_count() or 1
    workers = args.workers or cores
    print(f"machine: {cores} cores (nproc), workers {workers}, Python {sys.version.split()[0]}")
    prepare_project(args.rebuild)
    report: dict[str, Any] = {"cores": cores, "workers": workers, "stages": {}, "components": {}}

    if args.quick:   # the whole run as a researcher starts it, then the incremental cases
        cold = kwal_run(PROJECT)
        report.update(pipeline_s=cold["wall_s"], cold=cold, counts=corpus_counts())
        print_size(report["counts"])
        print(f"whole run (kwal run, cold): {cold['wall_s']:.2f} s (CPU {cold['cpu_s']:.1f} s, "
              f"CPU/wall {cold['cpu_s'] / max(cold['wall_s'], 1e-9):.2f} of {cores} cores), peak "
              f"{cold['peak_tree_mb']:.0f} MB PSS; stages (s): {cold['stages_s']}", flush=True)
        incremental_cases(report, args)
        print_incremental_cases(report)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "benchmark_quick.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        return

    # cold run, stage by stage
    total = 0.0
    for stage in STAGES:
        result = measure([sys.executable, f"pipeline/{stage}.py", "--workers", str(workers)], PROJECT)
        if result["rc"] != 0:
            raise SystemExit(f"stage {stage} failed:\n{result['output'][-3000:]}")
        total += result["wall_s"]
        report["stages"][stage] = {k: v for k, v in result.items() if k not in ("output", "rc")}
        print(f"  {stage:<13} {result['wall_s']:7.2f} s  peak {result['peak_process_mb']:7.0f} MB/process "
              f"{result['peak_tree_mb']:7.0f} MB/tree (PSS; RSS sum {result['peak_tree_rss_mb']:.0f})", flush=True)
    counts = corpus_counts()
    report["counts"] = counts
    report["pipeline_s"] = round(total, 2)

    # components and baselines
    comps = report["components"]
    comps["pdf"] = component("pdf", workers)
    comps["pdf_baseline"] = component("pdf_baseline", 1, ["--sample", str(args.baseline_pages)])
    comps["pdf_vs_pdfium"] = component("pdf_vs_pdfium", 1)
    comps["segment"] = component("segment", workers)
    comps["segment_baseline"] = component("segment_baseline", 1, ["--sample", str(args.baseline_fragments)])
    comps["code"] = component("code", workers)
    comps["code_1"] = component("code_1", 1)

    # incremental, through kwal run (= dvc repro, as a researcher runs it)
    if not args.skip_incremental:
        subprocess.run([sys.executable, "-m", "dvc", "commit", "-f", "-q"], cwd=PROJECT, check=True)
    incremental_cases(report, args)
    # the table
    peak_process = max(s["peak_process_mb"] for s in report["stages"].values())
    peak_tree = max(s["peak_tree_mb"] for s in report["stages"].values())
    peak_tree_rss = max(s["peak_tree_rss_mb"] for s in report["stages"].values())
    print_size(counts)
    print(f"\n{'stage':<13} {'wall s':>8} {'peak MB: process / tree PSS / tree RSS sum':>44}  throughput")
    for stage, s in report["stages"].items():
        print(f"{stage:<13} {s['wall_s']:8.2f} {s['peak_process_mb']:17.0f} /{s['peak_tree_mb']:9.0f} /"
              f"{s['peak_tree_rss_mb']:9.0f}       {stage_throughput(stage, s['wall_s'], counts)}")
    print(f"{'pipeline':<13} {total:8.2f} {peak_process:17.0f} /{peak_tree:9.0f} /{peak_tree_rss:9.0f}       "
          f"target ≤ {TARGETS['pipeline_s']} s, < {TARGETS['peak_memory_mb']} MB")

    def line(label: str, value: float, unit: str, target: float, base: float | None = None) -> None:
        ratio = f"  {value / base:5.1f}× baseline ({base:,.0f} {unit})" if base else ""
        mark = "met" if value >= target else "NOT met"
        print(f"{label:<34} {value:>10,.0f} {unit:<12} target ≥ {target:,} ({mark}){ratio}")

    print()
    line("PDF extraction", comps["pdf"]["pages_per_s"], "pages/s", TARGETS["pdf_pages_per_s"],
         comps["pdf_baseline"]["pages_per_s"])
    print(f"{'':<34} {comps['pdf']['words_per_s']:>10,.0f} words/s")
    vs = comps["pdf_vs_pdfium"]
    print(f"{'PDF extraction, one process':<34} {vs['pages_per_s']:>10,.0f} pages/s      raw PDFium "
          f"{vs['raw_pages_per_s']:,.0f} pages/s: {vs['ratio']:.2f}× (target ≥ {TARGETS['pdf_vs_pdfium']})")
    line("segmentation + lemmatisation", comps["segment"]["tokens_per_s"], "tokens/s",
         TARGETS["segment_tokens_per_s"], comps["segment_baseline"]["tokens_per_s"])
    print(f"{'':<34} {comps['segment']['words_per_s']:>10,.0f} words/s, "
          f"{comps['segment']['fragments_per_s']:,.0f} fragments/s")
    line(f"rule coding ({workers} workers)", comps["code"]["fragments_per_s"], "fragments/s",
         TARGETS["code_fragments_per_s"])
    print(f"{'':<34} {comps['code_1']['fragments_per_s']:>10,.0f} fragments/s in one process")
    for name, c in comps.items():
        print(f"  component {name:<17} {c['seconds']:7.2f} s  peak {c['peak_process_mb']:6.0f} MB/process "
              f"{c['peak_tree_mb']:6.0f} MB/tree")
    print_incremental_cases(report)
    print("\nreal-engine PDFs (tests/data/pdfs; python benchmarks/real_pdfs.py FOLDER scores any folder):")
    sys.path.insert(0, str(BENCH))
    from real_pdfs import report as real_pdf_report

    report["real_pdfs"] = real_pdf_report([ROOT / "tests" / "data" / "pdfs"])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "benchmark.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten: {RESULTS / 'benchmark.json'}")


if __name__ == "__main__":
    main()
