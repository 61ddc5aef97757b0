"""The database updated in place (rows of changed documents only) equals a full rebuild, table by table."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import asdict
from pathlib import Path

import pytest
from test_pseudonymise_leaks import _synthetic_corpus

from kwalitatief import store
from kwalitatief.codebook import load_codebook
from kwalitatief.coding import code_corpus
from kwalitatief.corpus import load_register
from kwalitatief.ingest import extract_corpus
from kwalitatief.jsonio import write_jsonl_dir
from kwalitatief.segment import document_of, segment_corpus
from kwalitatief.store_update import per_document_tables, row_counts, update_database

CODEBOOK = Path(__file__).resolve().parents[1] / "codebook" / "codebook.yaml"
MODEL = "blank:nl+lookup"


def contents(path: Path) -> dict[str, tuple[str, list[tuple]]]:
    """Every table and view: its schema and its rows in a fixed order; the full-text index by what it finds."""
    conn = sqlite3.connect(path)
    out = {}
    for name, kind, sql in conn.execute("SELECT name, type, sql FROM sqlite_master WHERE type IN ('table', 'view', "
                                        "'index', 'trigger') ORDER BY name"):
        if name.startswith("fragments_fts") or name.startswith("sqlite_"):
            continue
        rows = sorted(conn.execute(f"SELECT * FROM [{name}]").fetchall(), key=repr) if kind in ("table", "view") else []
        out[name] = (sql, rows)
    out["fragments_fts"] = ("", sorted(conn.execute(
        "SELECT f.fragment_id, t.text FROM fragments_fts t JOIN fragments f ON f.rowid = t.rowid").fetchall()))
    out["fts: samenwerking"] = ("", sorted(conn.execute(
        "SELECT f.fragment_id FROM fragments f WHERE f.rowid IN "
        "(SELECT rowid FROM fragments_fts WHERE fragments_fts MATCH 'samenwerking')").fetchall()))
    conn.close()
    return out


class Project:
    """Pipeline artefacts of a small corpus in per-document folders, and the database built from them."""

    def __init__(self, root: Path):
        self.root = root
        self.corpus = _synthetic_corpus(root)
        self.work = root / "outputs" / "work"
        self.codebook = load_codebook(CODEBOOK)

    def artefacts(self) -> None:
        register = load_register(self.corpus)
        self.register = register
        docs = extract_corpus(register).documents
        metas = {d.doc_id: asdict(d) for d in register.documents}
        fragments, _ = segment_corpus(docs, metas, {"unit": {"default": "paragraph"}, "model": MODEL})
        codings, _ = code_corpus(fragments, self.codebook, MODEL)
        rows = [{"fragment_id": f["fragment_id"], **row, "codebook_version": self.codebook.version}
                for f, frag_rows in zip([f for f in fragments if f["codable"]], codings) for row in frag_rows]
        published = [{k: v for k, v in f.items() if k not in ("tokens", "sents")} for f in fragments]
        write_jsonl_dir(self.work / "fragments", published, lambda f: f["doc_id"])
        write_jsonl_dir(self.work / "codings_rule", rows, lambda r: document_of(r["fragment_id"]))
        merged = [{**{k: v for k, v in r.items() if k != "source"}, "sources": "rule", "status": "machine"} for r in rows]
        write_jsonl_dir(self.work / "codings", merged, lambda r: document_of(r["fragment_id"]))

    def build(self, path: Path, stop: bool = False):
        """Build or update the database; ``stop``: the update fails after the per-document tables."""
        register = self.register
        documents = store.document_rows(register, {}, [], row_counts(self.work / "fragments"), {})

        def before(db):
            store.write_registers(db, register.regions, register.respondents)
            store.write_documents(db, documents)

        def after(db):
            if stop:
                raise RuntimeError("stopped")
            store.write_problems(db, [])
            store.write_run(db, {"n_codings": db["codings"].count})
            store.write_tables(db, {"codes_seen": [{"code": c} for (c,) in
                                                   db.execute("SELECT DISTINCT code FROM codings ORDER BY 1")]})

        tables = self.tables = per_document_tables(self.work / "fragments", self.work / "codings",
                                                   self.work / "codings_rule", self.work / "codings_classifier")
        db, update = update_database(path, tables, before, after)
        db.conn.close()
        return update


@pytest.fixture()
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.artefacts()
    return p


def _edit(project: Project, doc: str, text: str) -> None:
    path = project.corpus / "transcripts" / f"{doc}.txt"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    project.artefacts()


def test_an_edited_transcript_updates_its_rows_and_equals_a_full_rebuild(project: Project, tmp_path: Path) -> None:
    db = tmp_path / "kwalitatief.db"
    assert project.build(db).rebuilt
    before = contents(db)
    doc = sorted(p.stem for p in (project.work / "fragments").glob("*.jsonl"))[0]
    _edit(project, doc, "\nR: De samenwerking in de regio moet echt beter, de geldstromen zijn niet afgestemd.\n")
    update = project.build(db)
    assert not update.rebuilt and update.changed["fragments"] == 1 and update.changed["codings"] == 1
    patched = contents(db)
    assert patched != before
    fresh = tmp_path / "fresh.db"
    assert project.build(fresh).rebuilt
    assert patched == contents(fresh)
    assert db.read_bytes() == fresh.read_bytes()   # the same file: DVC records the same hash
    assert any("geldstromen zijn niet afgestemd" in row[0] for row in
               sqlite3.connect(db).execute("SELECT text FROM fragments WHERE doc_id = ?", (doc,)))


def test_a_removed_document_loses_its_rows_and_an_unchanged_run_touches_nothing(project: Project,
                                                                                tmp_path: Path) -> None:
    db = tmp_path / "kwalitatief.db"
    project.build(db)
    assert project.build(db).changed == {"fragments": 0, "codings_machine": 0, "codings": 0}
    gone = sorted(p.stem for p in (project.work / "fragments").glob("*.jsonl"))[-1]
    for folder in ("fragments", "codings", "codings_rule"):
        (project.work / folder / f"{gone}.jsonl").unlink(missing_ok=True)
    update = project.build(db)
    assert not update.rebuilt and update.changed["fragments"] == 1
    fresh = tmp_path / "fresh.db"
    project.build(fresh)
    assert contents(db) == contents(fresh)
    assert db.read_bytes() == fresh.read_bytes()
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM fragments WHERE doc_id = ?", (gone,)).fetchone() == (0,)
    with pytest.raises(sqlite3.IntegrityError, match="foreign key"):   # codings without their fragments
        _rows_of_gone_codings(project, db, gone)
    assert project.build(db).rebuilt and contents(db) == contents(fresh)   # the refused update is not kept


def _rows_of_gone_codings(project: Project, db: Path, gone: str) -> None:
    """A codings file of a document without fragments: the update refuses to leave dangling codings."""
    other = sorted(p for p in (project.work / "codings").glob("*.jsonl"))[0]
    target = project.work / "codings" / f"{gone}.jsonl"
    text = other.read_text(encoding="utf-8").replace(f'"{other.stem}-', f'"{gone}-')
    target.write_text(text, encoding="utf-8")
    try:
        project.build(db)
    finally:
        target.unlink()


def test_a_database_of_another_layout_a_half_done_update_or_a_broken_file_is_rebuilt(project: Project, tmp_path: Path) -> None:
    db = tmp_path / "kwalitatief.db"
    project.build(db)
    reference = contents(db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE run_inputs SET sha256 = 'old' WHERE artefact = 'layout'")
    conn.commit()
    conn.close()
    assert project.build(db).rebuilt and contents(db) == reference
    _edit(project, sorted(p.stem for p in (project.work / "fragments").glob("*.jsonl"))[0], "\nR: Nog iets.\n")
    with pytest.raises(RuntimeError, match="stopped"):   # an update that stops half-way
        project.build(db, stop=True)
    update = project.build(db)
    assert update.rebuilt
    fresh = tmp_path / "fresh.db"
    project.build(fresh)
    assert contents(db) == contents(fresh)
    reference = contents(fresh)
    db.write_bytes(b"not a database" * 100)
    assert project.build(db).rebuilt and contents(db) == reference
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".kwalitatief.db")]


def test_the_leak_guard_reads_the_rows_an_update_wrote_and_everything_when_in_doubt(project: Project,
                                                                                    tmp_path: Path,
                                                                                    monkeypatch) -> None:
    """Of a database updated in place that was clean before, the guard reads only the rows of the changed
    documents (and the small tables); when the file changed since the clean scan, it reads every row."""
    from kwalitatief import leakguard
    from kwalitatief.leakguard import DatabaseChange, LeakError, guard

    name = "Wubbo Zwanenburg"
    key = tmp_path / "outputs" / "private" / "pseudonym_key.csv"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text(f"tag,original,doc_id\n[PERSOON-1],{name},int_1\n", encoding="utf-8")
    db = tmp_path / "outputs" / "kwalitatief.db"
    project.build(db)
    guard(tmp_path)
    docs = sorted(p.stem for p in (project.work / "fragments").glob("*.jsonl"))
    edited, other = docs[0], docs[-1]

    def guard_update(update):
        return guard(tmp_path, changes=[DatabaseChange(db, update.before, update.written_rows(project.tables))])

    scanned: list[tuple[str, str]] = []
    scan = leakguard.scan_text
    monkeypatch.setattr(leakguard, "scan_text", lambda index, where, text: scanned.append((where, text))
                        or scan(index, where, text))
    _edit(project, edited, "\nR: De samenwerking in de regio moet echt beter.\n")
    guard_update(project.build(db))
    texts = dict(scanned)[f"{db}: fragments.text"]
    conn = sqlite3.connect(db)
    rows = dict(conn.execute("SELECT doc_id, text FROM fragments WHERE doc_id IN (?, ?) AND seq = 1", (edited, other)))
    conn.close()
    assert rows[edited] in texts and rows[other] not in texts   # only the edited document's rows

    transcript = project.corpus / "transcripts" / f"{edited}.txt"
    clean = transcript.read_text(encoding="utf-8")
    _edit(project, edited, f"\nR: Dat zei {name} ook.\n")      # a name the pseudonymiser missed
    with pytest.raises(LeakError, match=r"kwalitatief\.db: fragments\.text"):
        guard_update(project.build(db))
    transcript.write_text(clean, encoding="utf-8")
    project.artefacts()
    project.build(db)
    guard(tmp_path, changes=())
    conn = sqlite3.connect(db)   # changed behind the guard's back, in a row no update writes
    conn.execute("UPDATE fragments SET text = text || ? WHERE doc_id = ?", (f" {name}", other))
    conn.commit()
    conn.close()
    _edit(project, edited, "\nR: Nog iets.\n")
    with pytest.raises(LeakError, match=r"kwalitatief\.db: fragments\.text"):
        guard_update(project.build(db))


@pytest.mark.slow
def test_kwal_run_after_an_edit_gives_the_outputs_of_a_run_from_scratch(tmp_path: Path) -> None:
    """Through DVC: the report stage updates the database in place, and the tables, the report and the
    aggregates equal those of ``rm -rf outputs && kwal run`` (a second study: studies/mantelzorg)."""
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]

    def kwal(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "kwalitatief.cli", *args], cwd=cwd, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    study = tmp_path / "mantelzorg"
    kwal("init", str(study), cwd=tmp_path)
    shutil.copytree(root / "studies" / "mantelzorg", study, dirs_exist_ok=True)
    (study / "codebook" / "annotations" / ".gitkeep").unlink()
    kwal("run", cwd=study)
    transcript = sorted((study / "corpus" / "transcripts").glob("*.txt"))[0]
    transcript.write_text(transcript.read_text(encoding="utf-8").rstrip("\n")
                          + "\n\nR: Ik wil er nog aan toevoegen dat het me soms te veel wordt.\n", encoding="utf-8")
    edited = kwal("run", cwd=study)
    assert "database updated" in edited.stdout, edited.stdout
    outputs = study / "outputs"
    incremental = {"db": contents(outputs / "kwalitatief.db"), "db bytes": (outputs / "kwalitatief.db").read_bytes(),
                   **{p.name: p.read_bytes() for p in [outputs / "report.md", outputs / "report.html",
                                                        *sorted((outputs / "aggregates").glob("*.csv"))]}}
    shutil.rmtree(outputs)
    fresh_run = kwal("run", cwd=study)
    assert "database rebuilt" in fresh_run.stdout
    fresh = {"db": contents(outputs / "kwalitatief.db"), "db bytes": (outputs / "kwalitatief.db").read_bytes(),
             **{p.name: p.read_bytes() for p in [outputs / "report.md", outputs / "report.html",
                                                  *sorted((outputs / "aggregates").glob("*.csv"))]}}
    assert incremental.keys() == fresh.keys()
    for name in fresh:
        assert incremental[name] == fresh[name], name
