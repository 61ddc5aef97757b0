"""Stage report: bring the SQLite database up to date with all artefacts and render the report.

The per-document tables (fragments, codings) are updated for the documents whose artefact files changed
(the files' hashes are recorded in the database, table run_inputs); every other table is written afresh
(kwalitatief.store_update)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pandas as pd

from _common import register, run_stage, setup, summary

from kwalitatief import store
from kwalitatief.config import file_sha256
from kwalitatief.jsonio import read_json, read_jsonl
from kwalitatief.paths import DATABASE, EXTRACTED_DIR, WORK
from kwalitatief.provenance import corpus_hash, run_provenance
from kwalitatief import paths
from kwalitatief import report as report_lib
from kwalitatief.aggregate import read_exports
from kwalitatief.codebook import load_codebook
from kwalitatief.conclusions import conclusion_tables
from kwalitatief.keyscan import project_redactor
from kwalitatief.leakguard import DatabaseChange, LeakError, guard
from kwalitatief.store_update import per_document_tables, row_counts, update_database

log = logging.getLogger("kwalitatief.report")


def main() -> None:
    args, params = setup(__doc__)
    reg = register(params)
    # nothing leaves outputs/private/ with an original of the key in it: problems and the register are
    # pseudonymised with the key here too (the stages did so already; this is the last line before the
    # database), and the leak guard checks everything at the end
    redactor = project_redactor()
    problems = redactor.redact_problems(p for path in sorted(WORK.glob("problems_*.jsonl")) for p in read_jsonl(path))
    extracted = {}
    for doc in reg.documents:
        path = EXTRACTED_DIR / f"{doc.doc_id}.json"
        if path.exists():
            data = read_json(path)
            extracted[doc.doc_id] = {k: data.get(k) for k in ("source_type", "encoding", "n_pages", "text")}
    hashes = {doc.doc_id: file_sha256(doc.source(reg.corpus_dir)) for doc in reg.documents}
    manifest = Path(params.get("corpus", {}).get("manifest", "corpus/manifest.csv"))
    facts = {"corpus_hash": corpus_hash(hashes, manifest.read_bytes()), "n_documents": len(reg.documents)}
    # analyses (issue 5): aggregates, conclusions -> tables, views and the report
    tables = read_exports(paths.AGGREGATES_DIR) if paths.AGGREGATES_DIR.exists() else {}
    concl = read_json(paths.CONCLUSIONS) if paths.CONCLUSIONS.exists() else {"conclusions": [], "quantifiers": []}
    tables.update(conclusion_tables(concl["conclusions"]))
    # review (issue 6): intercoder agreement between reviewers and with the machine -> table agreement
    from kwalitatief.agreement import project_agreement

    agreement = project_agreement(params)
    if agreement:
        tables["agreement"] = agreement
    codebook = load_codebook(paths.CODEBOOK)
    tables["codes"] = pd.DataFrame(report_lib.code_rows(codebook),
                                   columns=["code", "label", "category", "category_label", "valence"])
    # the register as the database shows it: organisations that are pseudonymised in the transcripts
    # (params pseudonymise.organisation_types) appear by their tag there too
    labels = read_json(paths.PSEUDONYMISED_REGISTER) if paths.PSEUDONYMISED_REGISTER.exists() else {}
    respondents = [redactor.redact_value({**{k: v for k, v in r.items() if k != "name"},   # names: never
                                          "organisation": labels.get("organisations", {}).get(r["respondent_id"],
                                                                                              r["organisation"])})
                   for r in reg.respondents]
    counts = row_counts(paths.FRAGMENTS)
    documents = [redactor.redact_value({**d, "title": labels.get("titles", {}).get(d["doc_id"], d["title"])},
                                       d["doc_id"])
                 for d in store.document_rows(reg, extracted, problems, counts, hashes)]
    run_facts: dict = {}

    def before(db) -> None:
        """The tables the per-document ones refer to."""
        store.write_registers(db, region_rows(reg), respondents)
        store.write_documents(db, documents)

    study = reg.study
    outside = [r for r in reg.region_names if r not in reg.population]
    respondent_valence = (concl.get("valence_modes") or {}).get("respondent", "majority")   # as the conclusions
    views: list[str] = []

    def after(db) -> None:
        """The other tables, once fragments and codings are up to date, and the views."""
        run_facts.update(run_provenance(params, ".", **facts, **_versions(db),
                                        n_codings=db["codings"].count, n_conclusions=len(concl["conclusions"])))
        store.write_problems(db, problems)
        store.write_run(db, run_facts)
        store.write_tables(db, tables)
        views.extend(report_lib.create_views(db, outside, respondent_valence))

    per_document = per_document_tables(paths.FRAGMENTS, paths.CODINGS, paths.CODINGS_RULE, paths.CODINGS_CLASSIFIER)
    db, update = update_database(DATABASE, per_document, before, after)
    log.info("%s %s: %d documents, %d fragments, %d codings, %d problems; views: %s",
             "rebuilt" if update.rebuilt else "updated (" + ", ".join(f"{t}: {n} documents" for t, n in
                                                                  update.changed.items()) + ")",
             DATABASE, db["documents"].count, db["fragments"].count, db["codings"].count, db["problems"].count,
             ", ".join(views))
    metrics = read_json(paths.METRICS_DETAIL) if paths.METRICS_DETAIL.exists() else None
    figures = report_lib.FigureCache(paths.CACHE / "figures")   # figures drawn before from the same data
    context = report_lib.build_context(concl["conclusions"], tables, reg.region_names, run_facts, metrics,
                                       concl.get("quantifiers", []), problems, study=study,
                                       categories=dict(codebook.categories),
                                       code_labels={c.id: c.label for c in codebook.codes}, figures=figures)
    figures.prune()
    context["agreement"] = agreement
    report_lib.write_report(paths.REPORT_HTML, paths.REPORT_MD, context)
    log.info("wrote %s and %s", paths.REPORT_HTML, paths.REPORT_MD)
    written = update.written_rows(per_document)   # updated in place: only those rows are new
    try:
        checked = guard(changes=[DatabaseChange(DATABASE, update.before, written)] if written is not None else ())
    except LeakError as exc:
        sys.exit(f"error: {exc}")
    log.info("leak guard: none of the key's %d originals outside %s", checked, paths.PRIVATE)
    summary("database %s, report written", "rebuilt" if update.rebuilt else
            f"updated (rows of {max(update.changed.values(), default=0)} documents)")


def region_rows(reg) -> list[dict]:
    """The regions table: the rows of regions.csv (in the population) and the study's outside values."""
    names = {r["region"] for r in reg.regions}
    rows = [{**r, "in_population": 1} for r in reg.regions]
    return rows + [{"region": value, "note": label, "in_population": 0}
                   for value, label in reg.study.outside.items() if value not in names]


def _versions(db) -> dict[str, str]:
    """Codebook and model version of the codings (the values the coding stages recorded): of the merged
    codings, or of the machine's where there are none."""
    table = "codings" if db["codings"].exists() and db["codings"].count else "codings_machine"
    out = {}
    for key in ("codebook_version", "model_version"):
        values = [v for (v,) in db.execute(f"SELECT DISTINCT [{key}] FROM [{table}] WHERE [{key}] IS NOT NULL "
                                           f"AND [{key}] != '' ORDER BY 1").fetchall()] if db[table].exists() else []
        out[key] = ", ".join(values) if values else "–"
    return out


if __name__ == "__main__":
    run_stage(main)
