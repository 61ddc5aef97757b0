"""``kwal``: the researcher's command line over the library and the DVC pipeline."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from .config import ConfigError, load_params
from .corpus import RegisterError, load_register, register_gaps


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _kind_for(path: Path, corpus_dir: Path, given: str | None, default: str) -> tuple[str, str]:
    """(doc_id, kind) of a path: its doc_type from ``given`` or the manifest, read as ``transcript`` or
    ``document`` as study.yaml declares that type (``given`` may also name a kind); else ``default``."""
    from .study import DOCUMENT_KIND, STUDY_FILE, TRANSCRIPT_KIND, parse_study

    doc_id, doc_type = path.stem, given
    manifest = corpus_dir / "manifest.csv"
    if manifest.exists() and not given:
        from .csvfiles import read_rows

        for _, row in read_rows(manifest, ("doc_id", "path", "doc_type"), []):   # read like the register
            if (corpus_dir / row["path"]).resolve() == path.resolve():
                doc_id, doc_type = row["doc_id"], row["doc_type"]
    study, _ = parse_study(corpus_dir.parent / STUDY_FILE)
    if doc_type and study and doc_type in study.document_types:
        return doc_id, study.kind(doc_type)
    if doc_type in (TRANSCRIPT_KIND, DOCUMENT_KIND):
        return doc_id, doc_type
    if doc_type:
        declared = list(study.document_types) if study else []
        _fail(f"unknown doc_type '{doc_type}'; use a type declared in {STUDY_FILE} "
              f"({', '.join(declared) or 'none declared'}) or transcript / document.")
    return doc_id, default


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="More log output.")
def main(verbose: bool) -> None:
    """kwalitatief: extract, code, review and aggregate a Dutch qualitative corpus."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    from .parallel import tune_gc

    tune_gc()


@main.command()
@click.option("--force", is_flag=True, help="Rerun every stage even if nothing changed.")
@click.pass_context
def run(ctx: click.Context, force: bool) -> None:
    """Run the pipeline (dvc repro): one line per stage, then where the outputs are."""
    import os

    from .progress import enabled as progress_enabled
    from .provenance import now, write_run_log
    from .run_output import RunOutput

    if not Path("dvc.yaml").exists():
        _fail("no dvc.yaml here; run kwal from the project root.")
    cmd = [sys.executable, "-m", "dvc", "repro"] + (["--force"] if force else [])
    # the stages' `python` must be this environment's, also when the venv is not activated; their output
    # reaches us through a pipe, so whether to draw progress bars is decided by our own terminal
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "KWAL_PROGRESS": "1" if progress_enabled() else "0"}
    verbose = bool(ctx.find_root().params.get("verbose"))

    def show_progress(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    from .runner import stream_command

    out = RunOutput(emit=click.echo, progress=show_progress, verbose=verbose)
    started = now()
    returncode = stream_command(cmd, out.feed, env)   # DVC's and the stages' output as it comes
    out.close()
    if returncode != 0:
        _fail("the pipeline stopped; the messages above name the stage and the problem.", returncode)
    if not out.stages_run:
        click.echo("Nothing changed since the last run: no stage was rerun.")
    elif out.unchanged:
        click.echo(f"  unchanged, not rerun: {', '.join(out.unchanged)}")
    _leak_guard()
    from .summary import summarise_outputs

    click.echo(summarise_outputs())
    entry = write_run_log(started, out.stages_run, _params_or_empty(Path("params.yaml")))
    click.echo(f"  run {entry['started']} – {entry['finished']}, code {entry['code_revision']}, "
               f"inputs {entry['fingerprint']}: outputs/run.json")


def _leak_guard() -> None:
    """Every run ends with the leak guard, also when DVC reran nothing (outputs may have been copied in)."""
    from .leakguard import LeakError, guard

    try:
        n = guard()
    except LeakError as exc:
        _fail(str(exc), 3)
    click.echo(f"Leak guard: none of the {n} originals of the pseudonym key outside outputs/private/.")


@main.command("purge-leaks")
@click.option("--params", default="params.yaml", type=click.Path(path_type=Path))
def purge_leaks_cmd(params: Path) -> None:
    """After adding a missed name to corpus/pseudonyms.csv: rerun, remove every stale copy of it and
    pseudonymise the text fields of reviews.jsonl and the annotations (backup under outputs/private/)."""
    from .purge import PurgeError, purge_leaks

    try:
        report = purge_leaks(Path("."), echo=click.echo)
    except PurgeError as exc:
        _fail(str(exc), 3)
    click.echo(report)


@main.command("extract-text")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--doc-type", default=None, help="Document type of study.yaml, or transcript / document (default: from corpus/manifest.csv, else document).")
@click.option("--corpus", "corpus_dir", default="corpus", type=click.Path(path_type=Path))
def extract_text(path: Path, doc_type: str | None, corpus_dir: Path) -> None:
    """Print the cleaned text of one document (to check an extraction)."""
    from .ingest import ExtractionError, extract_document

    doc_id, kind = _kind_for(path, corpus_dir, doc_type, "document")
    try:
        extracted = extract_document(doc_id, path, kind)
    except ExtractionError as exc:
        _fail(f"{path}: {exc}")
    click.echo(extracted.text)


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Write into a non-empty folder: only the missing files "
                                            "(existing files are never overwritten).")
def init_cmd(directory: Path, force: bool) -> None:
    """Create a new, empty study in DIRECTORY: declarations, register, codebook skeleton and the method."""
    from .study_init import InitError, init_study

    try:
        result = init_study(directory, force)
    except InitError as exc:
        _fail(str(exc))
    for path in result.kept:
        click.echo(f"kept (not overwritten): {path}")
    click.echo(f"wrote {len(result.written)} files and folders in {directory}/. Next: fill in study.yaml and "
               f"the register (README.md there says in which order), then `cd {directory} && kwal check`.")


@main.command()
@click.option("--params", default="params.yaml", type=click.Path(path_type=Path))
@click.option("--codebook", "codebook_path", default=None, type=click.Path(path_type=Path),
              help="Codebook to validate (default: codebook/codebook.yaml).")
@click.option("--conclusions", "conclusions_path", default="codebook/conclusions.yaml",
              type=click.Path(path_type=Path), help="The report's claims to validate.")
@click.option("--all-warnings", is_flag=True, help="List every warning (default: the first five and a count).")
def check(params: Path, codebook_path: Path | None, conclusions_path: Path, all_warnings: bool) -> None:
    """Validate the corpus register, the codebook and the conclusions; exit non-zero on any error."""
    errors: list[str] = []
    try:
        settings = load_params(params)
    except ConfigError as exc:
        _fail(str(exc))
    corpus = settings.get("corpus", {})
    regions: list[str] | None = None
    try:
        register = load_register(corpus.get("dir", "corpus"), corpus.get("manifest"),
                                 corpus.get("respondents"), corpus.get("regions"))
        regions = register.region_names
        study = register.study
        click.echo(f"study '{study.title}': {len(study.respondent_types)} respondent types, "
                   f"{len(study.document_types)} document types: ok")
        gaps = register_gaps(register, corpus.get("manifest"), corpus.get("regions"))
        errors.extend(gaps)
        if not gaps:
            click.echo(f"corpus register: {len(register.documents)} documents, "
                       f"{len(register.respondents)} respondents, {len(register.regions)} regions: ok")
    except RegisterError as exc:
        errors.extend(exc.problems)
    try:
        from .codebook_check import codebook_findings
    except ImportError:
        codebook_findings = None
    if codebook_findings is not None:
        codebook_errors, warnings = codebook_findings(codebook_path or Path("codebook/codebook.yaml"), settings)
        errors.extend(codebook_errors)
        shown = warnings if all_warnings else warnings[:5]
        for warning in shown:                 # printed, but do not fail the check
            click.echo(f"warning: {warning}", err=True)
        if len(warnings) > len(shown):
            click.echo(f"warning: ... and {len(warnings) - len(shown)} more warnings "
                       "(kwal check --all-warnings lists them)", err=True)
        if not codebook_errors:   # the claims refer to the codebook's codes
            errors.extend(_conclusions_errors(codebook_path or Path("codebook/codebook.yaml"), conclusions_path,
                                              settings, regions))
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        sys.exit(1)
    click.echo("all checks passed")



def _conclusions_errors(codebook_path: Path, conclusions_path: Path, settings: dict,
                        regions: list[str] | None) -> list[str]:
    from .codebook import CodebookError, load_codebook
    from .conclusions import conclusions_problems

    try:
        codes = load_codebook(codebook_path).code_ids
    except CodebookError:
        return []
    problems = conclusions_problems(conclusions_path, settings, codes, regions)
    if not problems:
        click.echo(f"conclusions: {conclusions_path}: ok")
    return problems


def _coding_setup(codebook_path: Path, params: Path, model_dir: Path | None, rules_only: bool):
    """The codebook, spaCy model name and (unless ``rules_only`` or untrained) the classifier that
    ``code-file`` and ``eval`` code with: the same as the pipeline's."""
    from .codebook import CodebookError, load_codebook

    try:
        codebook = load_codebook(codebook_path)
    except CodebookError as exc:
        _fail("the codebook has problems (run `kwal check`):\n" + "\n".join(exc.problems))
    model = "nl_core_news_sm"
    if params.exists():
        try:
            model = (load_params(params).get("nlp") or {}).get("model", model)
        except ConfigError as exc:
            _fail(str(exc))
    coding_model = None
    if not rules_only:
        from .classifier.coding_model import CodingModel, load_coding_model
        from .classifier.settings import ClassifyError
        from .classifier.settings import settings as classify_settings

        try:
            cfg = classify_settings(load_params(params) if params.exists() else {})
        except (ClassifyError, ConfigError) as exc:
            _fail(str(exc))
        from .paths import MODEL_DIR

        model_dir = model_dir or params.parent / MODEL_DIR
        trained, message = load_coding_model(model_dir, codebook.version, codebook.code_ids)
        click.echo(message, err=True)
        if trained is not None:
            coding_model = CodingModel(trained, cfg["merge_policy"], cfg["valence_from"])
    return codebook, model, coding_model


_MODEL_OPTIONS = [
    click.option("--codebook", "codebook_path", default="codebook/codebook.yaml", type=click.Path(path_type=Path),
                 help="Codebook to code with (default: codebook/codebook.yaml)."),
    click.option("--params", default="params.yaml", type=click.Path(path_type=Path)),
    click.option("--model-dir", default=None, type=click.Path(file_okay=False, path_type=Path),
                 help="Trained classifier (default: outputs/model next to the params file, made by `kwal run`); "
                      "absent = rules only."),
    click.option("--rules-only", is_flag=True, help="Code with the rules alone, ignoring a trained classifier."),
]


def _model_options(func):
    for option in reversed(_MODEL_OPTIONS):
        func = option(func)
    return func


@main.command("code-file")
@click.argument("in_path", metavar="IN.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out_path", metavar="OUT.jsonl", type=click.Path(dir_okay=False, path_type=Path))
@_model_options
def code_file_cmd(in_path: Path, out_path: Path, codebook_path: Path, params: Path,
                  model_dir: Path | None, rules_only: bool) -> None:
    """Code fragments without a corpus: IN.jsonl lines {"id", "text"} -> OUT.jsonl {"id", "codes"}."""
    from .coding import code_file
    from .nlp import load_nlp

    codebook, nlp_model, coding_model = _coding_setup(codebook_path, params, model_dir, rules_only)
    n, problems = code_file(str(in_path), str(out_path), codebook, load_nlp(nlp_model), coding_model)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    click.echo(f"{n} fragments coded -> {out_path}" + (f" ({len(problems)} lines skipped)" if problems else ""))


@main.command("eval")
@click.argument("gold_path", metavar="GOLD.jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_model_options
@click.option("--out", "out_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the scores (per code, overall, errors) as JSON here.")
def eval_cmd(gold_path: Path, codebook_path: Path, params: Path, model_dir: Path | None, rules_only: bool,
             out_path: Path | None) -> None:
    """Score the coding against GOLD.jsonl: lines {"id", "text", "codes": [{"code", "valence"}]} coded by people.

    The fragments are coded exactly as `kwal code-file` codes them; printed are precision, recall, F1 and
    kappa per code and overall, strict scores (with valence) and the most frequent errors.
    """
    from .coding import code_texts
    from .gold import GoldError, format_report, load_gold, predicted_sets, score_gold
    from .jsonio import write_json
    from .nlp import load_nlp

    codebook, nlp_model, coding_model = _coding_setup(codebook_path, params, model_dir, rules_only)
    try:
        gold = load_gold(gold_path, codebook.code_ids)
    except GoldError as exc:
        _fail(f"the gold file cannot be scored:\n{exc}")
    rows = code_texts([g.text for g in gold], codebook, load_nlp(nlp_model), coding_model)
    result = score_gold(gold, predicted_sets(rows), codebook.code_ids)
    result["system"] = "rules" if coding_model is None else f"rules+classifier ({coding_model.policy})"
    click.echo(format_report(result, f"{gold_path} [{result['system']}]"))
    from .paths import METRICS

    metrics_path = params.parent / METRICS
    if metrics_path.exists():                 # the cross-validation on the annotations, next to it
        from .jsonio import read_json

        cv = read_json(metrics_path)
        result["cross_validation"] = {s: cv[s] for s in ("rules", "classifier", "merged") if s in cv}
        merged = result["cross_validation"].get("merged")
        if merged:
            click.echo(f"  cross-validation on the annotations ({metrics_path}): merged micro F1 "
                       f"{merged['micro_f1']:.3f}, mean kappa {merged['mean_kappa']:.3f}; here: micro F1 "
                       f"{result['micro_f1']:.3f}, kappa {result['kappa']:.3f}")
    if out_path is not None:
        write_json(out_path, result)
        click.echo(f"scores -> {out_path}")


@main.command("pseudonymise")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--doc-type", default=None, help="Document type of study.yaml, or transcript / document (default: from corpus/manifest.csv, else transcript).")
@click.option("--params", default="params.yaml", type=click.Path(path_type=Path))
@click.option("--key", "show_key", is_flag=True,
              help="Also print which original each tag replaces (to stderr; contains the names!).")
def pseudonymise_cmd(path: Path, doc_type: str | None, params: Path, show_key: bool) -> None:
    """Print the pseudonymised text of one transcript, to check what is replaced.

    Tags are numbered within this document only; the pipeline numbers them across the corpus.
    """
    from . import pseudonymise as ps
    from .ingest import ExtractionError, extract_document

    try:
        settings_all = load_params(params)
    except ConfigError as exc:
        _fail(str(exc))
    corpus = settings_all.get("corpus", {})
    corpus_dir = Path(corpus.get("dir", "corpus"))
    try:
        settings = ps.Settings.from_params(settings_all.get("pseudonymise"))
        plist = ps.load_pseudonym_list(settings.list_path)
    except (ValueError, ps.PseudonymListError) as exc:
        _fail(str(exc))
    doc_id, kind = _kind_for(path, corpus_dir, doc_type, "transcript")
    try:
        extracted = extract_document(doc_id, path, kind)
    except ExtractionError as exc:
        _fail(f"{path}: {exc}")
    regions = ps.read_table(corpus.get("regions") or corpus_dir / "regions.csv")
    respondents = ps.read_table(corpus.get("respondents") or corpus_dir / "respondents.csv")
    from .study import STUDY_FILE, parse_study

    study, _ = parse_study(corpus_dir.parent / STUDY_FILE)
    vocab = ps.build_vocabulary(regions, respondents, plist, settings, study.protected_terms if study else ())
    forced = ps.Settings(**{**settings.__dict__, "doc_types": (kind,)})
    result = ps.pseudonymise_corpus([extracted.to_dict()], {doc_id: kind}, vocab, forced)
    if result.problems:
        _fail(result.problems[0]["message"])
    click.echo(result.documents[0]["text"])
    if show_key:
        for row in result.key:
            click.echo(f"{row['tag']}\t{row['original']}", err=True)
    counts = ", ".join(f"{n} {k}" for k, n in sorted(result.counts.items())) or "nothing"
    click.echo(f"-- {counts} replaced ({len({r['tag'] for r in result.key})} tags)", err=True)


# ------------------------------------------------------------------ review, agreement, REFI-QDA (issue 6)

def _params_or_empty(params: Path) -> dict:
    if not params.exists():
        return {}
    try:
        return load_params(params)
    except ConfigError as exc:
        _fail(str(exc))
    return {}


@main.command("review")
@click.option("--reviewer", required=True, help="Your name; recorded with every decision.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port on 127.0.0.1 (0 = any free port).")
@click.option("--blind", is_flag=True,
              help="Double coding: code a seeded sample of fragments without seeing the machine's codes or "
                   "other reviewers' decisions.")
@click.option("--sample", default=40, show_default=True, type=int, help="Blind mode: fragments in the sample.")
@click.option("--seed", default=13, show_default=True, type=int, help="Blind mode: seed of the sample.")
@click.option("--params", default="params.yaml", type=click.Path(path_type=Path))
@click.option("--open-browser/--no-browser", default=True, help="Open the page in the default browser.")
def review_cmd(reviewer: str, port: int, blind: bool, sample: int, seed: int, params: Path,
               open_browser: bool) -> None:
    """Review coded fragments in the browser (decisions go to codebook/reviews.jsonl)."""
    from .review_app import ReviewAppError, make_server

    try:
        server = make_server(".", reviewer, port, blind, sample, seed, _params_or_empty(params))
    except ReviewAppError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot listen on 127.0.0.1:{port} ({exc}); choose another --port.")
    url = f"http://127.0.0.1:{server.port}/"
    click.echo(f"Review page for {reviewer}{' (blind)' if blind else ''}: {url}  (Ctrl+C stops; press ? on "
               "the page for the keys)")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped; your decisions are in codebook/reviews.jsonl (make run applies them).")
    finally:
        server.server_close()


@main.command("agreement")
@click.option("--params", default="params.yaml", type=click.Path(path_type=Path))
@click.option("--csv", "csv_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the table as CSV.")
def agreement_cmd(params: Path, csv_path: Path | None) -> None:
    """Cohen's kappa and Krippendorff's alpha between reviewers and with the machine."""
    from .agreement import COLUMNS, format_table, project_agreement

    rows = project_agreement(_params_or_empty(params))
    click.echo(format_table(rows))
    if csv_path:
        import csv

        with open(csv_path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
        click.echo(f"-> {csv_path}")


def _guard_export(path: Path) -> None:
    """An export leaves the machine: the leak guard checks it (memos, titles) and removes it on a hit."""
    from .leakguard import LeakError, key_index, scan_paths

    leaks = scan_paths(key_index("."), [path])
    if leaks:
        path.unlink(missing_ok=True)
        _fail(f"{LeakError(leaks)}\n{path} was not kept.", 3)


@main.group("export")
def export_group() -> None:
    """Export to QDA software (REFI-QDA: ATLAS.ti, MAXQDA, NVivo, QualCoder ...)."""


@export_group.command("qdpx")
@click.argument("out_path", metavar="OUT.qdpx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--include-unreviewed", is_flag=True, help="Also export machine codings nobody reviewed yet.")
@click.option("--params", default="params.yaml", type=click.Path(path_type=Path))
def export_qdpx_cmd(out_path: Path, include_unreviewed: bool, params: Path) -> None:
    """The project: codebook, pseudonymised sources and reviewed codings."""
    from .qda import QdaError, export_qdpx

    try:
        counts = export_qdpx(out_path, ".", _params_or_empty(params), include_unreviewed)
    except QdaError as exc:
        _fail(str(exc))
    _guard_export(out_path)
    click.echo(f"{out_path}: {counts['sources']} sources, {counts['codes']} codes, {counts['selections']} "
               f"selections with {counts['codings']} codings, {counts['users']} users"
               + ("" if include_unreviewed else " (reviewed codings only; --include-unreviewed adds the rest)"))


@export_group.command("qdc")
@click.argument("out_path", metavar="OUT.qdc", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--params", default="params.yaml", type=click.Path(path_type=Path))
def export_qdc_cmd(out_path: Path, params: Path) -> None:
    """The codebook alone (REFI-QDA codebook exchange)."""
    from .classify import codebook_path
    from .codebook import CodebookError, load_codebook
    from .qda import export_qdc

    try:
        codebook = load_codebook(codebook_path(_params_or_empty(params)))
    except CodebookError as exc:
        _fail(f"the codebook has errors (run 'kwal check'):\n{exc}")
    n = export_qdc(out_path, codebook)
    click.echo(f"{out_path}: {n} codes")


@main.group("import")
def import_group() -> None:
    """Import from QDA software (REFI-QDA)."""


@import_group.command("qdpx")
@click.argument("in_path", metavar="IN.qdpx", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Annotation file name: codebook/annotations/imported_NAME.jsonl "
                                           "(default: the file's name).")
@click.option("--include-machine", is_flag=True, help="Also import codings by 'kwalitatief (machine)' (our own "
                                                    "unreviewed proposals; skipped by default).")
@click.option("--params", default="params.yaml", type=click.Path(path_type=Path))
def import_qdpx_cmd(in_path: Path, name: str | None, include_machine: bool, params: Path) -> None:
    """Codings of another tool's project -> annotations (training data) of matching documents."""
    from .qda import QdaError
    from .qda_import import import_qdpx

    try:
        result = import_qdpx(in_path, ".", _params_or_empty(params), name, include_machine)
    except QdaError as exc:
        _fail(str(exc))
    from collections import Counter

    verbose = bool(click.get_current_context().find_root().params.get("verbose"))
    for line in result.readings if verbose else []:
        click.echo(line)
    for label, n in sorted(Counter(result.reading_of.values()).items()):
        click.echo(f"positions read as {label}: {n} of {len(result.reading_of)} sources"
                   + ("" if verbose else " (kwal -v import: per source, and why)"))
    for p in result.problems:
        click.echo(f"warning: {p}", err=True)
    click.echo(f"{len(result.matched_sources)} sources matched corpus documents; {result.n_codings} codings -> "
               + (f"{result.n_lines} annotation lines in {result.path}" if result.n_lines else "nothing to import, "
                  "no file written"))


if __name__ == "__main__":
    main()
