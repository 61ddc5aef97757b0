"""Turn the transcript sources ``corpus/build/docx_src/<doc_id>.txt`` into ``corpus/transcripts/<doc_id>.docx``.

Run from the repository root::

    python corpus/build/build_docx.py

Input: UTF-8 text, paragraphs separated by blank lines. Every non-empty line becomes one docx paragraph (so
the preamble lines, such as title and date, stay separate paragraphs). The first source in sorted order also
gets a small two-column table at the end ("Onderwerp | Toelichting", two rows summarising the respondent), so
that the table support of the extractor is exercised.

The output is deterministic and the script is idempotent: the core properties (created, modified, revision)
are fixed, the zip entries get a fixed timestamp, and a file is only rewritten when its bytes change.

Dependency: python-docx.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.shared import Pt

ROOT = Path(__file__).resolve().parents[2]
SRC_DIR = Path(__file__).resolve().parent / "docx_src"
OUT_DIR = ROOT / "corpus" / "transcripts"
FIXED_DATE = dt.datetime(2022, 7, 1, 12, 0, 0)
ZIP_DATE = (2022, 7, 1, 12, 0, 0)

# Summary rows for the table in the first transcript (fictional, written from the transcript's content).
SUMMARIES: dict[str, list[tuple[str, str]]] = {
    "int_r04": [
        ("Proeftuin", "Positief over het hybride productiehuis: makers in de hele regio begeleid en een blijvend "
                      "netwerk van podia; het vervolg bleef lang onzeker toen het rijksgeld wegviel."),
        ("Stedelijke regio", "Het doel is de respondent niet duidelijk; voor instellingen is de regio vooral een "
                             "overlegcircuit van overheden. Pleit voor afgestemde criteria en één verantwoording."),
    ],
}
FALLBACK_SUMMARY = [
    ("Onderwerp van het gesprek", "Ervaringen van de respondent met de stedelijke cultuurregio."),
    ("Belangrijkste punt", "Zie de antwoorden van de respondent in dit transcript."),
]


def _paragraphs(text: str) -> list[str]:
    """Non-empty lines of the source, whitespace-normalised, in order."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def build_document(doc_id: str, text: str, with_table: bool) -> bytes:
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    for para in _paragraphs(text):
        document.add_paragraph(para)
    if with_table:
        rows = SUMMARIES.get(doc_id)
        if rows is None:
            print(f"warning: no summary written for {doc_id}; using a generic table", file=sys.stderr)
            rows = FALLBACK_SUMMARY
        table = document.add_table(rows=1, cols=2)
        table.style = "Table Grid"
        header = table.rows[0].cells
        header[0].text, header[1].text = "Onderwerp", "Toelichting"
        for cell in header:
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for topic, note in rows:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = topic, note
    props = document.core_properties
    props.author = "kwalitatief demo (fictief)"
    props.last_modified_by = "kwalitatief demo (fictief)"
    props.title = f"Fictief transcript {doc_id}"
    props.comments = "Fictief document, geschreven voor de demo van kwalitatief."
    props.created = FIXED_DATE
    props.modified = FIXED_DATE
    props.last_printed = FIXED_DATE
    props.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed entry timestamps so that two builds are byte-identical."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def main() -> int:
    sources = sorted(SRC_DIR.glob("*.txt"))
    if not sources:
        print(f"no sources in {SRC_DIR}; nothing to do")
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for index, src in enumerate(sources):
        doc_id = src.stem
        data = build_document(doc_id, src.read_text(encoding="utf-8"), with_table=index == 0)
        out = OUT_DIR / f"{doc_id}.docx"
        if out.exists() and out.read_bytes() == data:
            print(f"{out.relative_to(ROOT)}: unchanged")
            continue
        out.write_bytes(data)
        print(f"{out.relative_to(ROOT)}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
