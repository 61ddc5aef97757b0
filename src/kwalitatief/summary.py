"""The closing summary of ``kwal run``: what was built and where it is."""

from __future__ import annotations

from pathlib import Path

from .paths import DATABASE, OUTPUTS


def summarise_outputs(outputs: Path = OUTPUTS) -> str:
    """Counts from the database and the paths of the main outputs."""
    lines = ["", "Outputs:"]
    db_path = outputs / DATABASE.name
    if db_path.exists():
        import sqlite3   # not sqlite_utils: it imports pandas (a second of every `kwal run`)

        db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}

        def count(sql: str) -> int:
            return db.execute(sql).fetchone()[0]
        if "documents" in tables:
            ok = count("select count(*) from documents where status = 'ok'")
            total = count("select count(*) from documents")
            pages = count("select coalesce(sum(n_pages), 0) from documents")
            lines.append(f"  {db_path}: {ok} of {total} documents, {pages} PDF pages, "
                         f"{count('select count(*) from fragments')} fragments")
        if "codings" in tables:
            lines.append(f"  codings: {count('select count(*) from codings')}")
        if "codes" in tables and "codings" in tables:
            never = [row[0] for row in db.execute(
                "select code from codes where code not in (select distinct code from codings) order by rowid")]
            if never:
                lines.append(f"  {len(never)} code(s) got no coding anywhere: {', '.join(never)}; check their "
                             "rules and annotations (kwal code-file, kwal review)")
        if "problems" in tables:
            grouped = db.execute(
                "select stage, severity, count(*), group_concat(distinct doc_id) from problems "
                "group by stage, severity order by stage, severity").fetchall()
            for stage, severity, n, docs in grouped:
                names = [d for d in (docs or "").split(",") if d]
                shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                lines.append(f"  {n} {severity}(s) in stage {stage}" + (f" ({shown})" if shown else "") + ": "
                             f"select * from problems where stage = '{stage}'")
            failed = db.execute("select doc_id, error from documents where status = 'error'").fetchall()
            for doc_id, message in failed:
                lines.append(f"  not processed: {doc_id}: {message}")
        db.close()
    for name in ("report.html", "report.md", "metrics.json"):
        if (outputs / name).exists():
            lines.append(f"  {outputs / name}")
    if (outputs / "private").exists():
        lines.append(f"  {outputs / 'private'}/ holds original text and the pseudonym key: keep it private.")
    return "\n".join(lines)
