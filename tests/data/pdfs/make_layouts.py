"""Build ``lijsten_libreoffice.pdf``: layouts where a paragraph's lines look like new paragraphs (run at
authoring time only; CI reads the committed files).

    python tests/data/pdfs/make_layouts.py

A DOCX written with python-docx and converted by LibreOffice (``soffice --headless --convert-to pdf``), as
in ``make_pdfs.py``. It holds what word processors make of policy notes and reports:

- a bold heading in body size over two lines, the second ending in ``)``;
- bulleted items whose first line ends in ``)`` or ``:`` and whose next line stands at the bullet's text
  (a hanging indent);
- literature entries with a hanging indent, a line ending in ``:`` inside a title;
- a two-column section where a sentence runs over the column break after a ``:``, and another after a
  web address ending in ``.``.

Manual line breaks put those line ends where they are meant to be. Next to the PDF: its source (``.docx``)
and ``lijsten_libreoffice.ref.txt`` (one paragraph or heading a line, in reading order).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "lijsten_libreoffice"

# (kind, lines): the lines of one paragraph, each manual line break between two of them.
CONTENT: list[tuple[str, list[str]]] = [
    ("heading", ["Regionale samenwerking in de praktijk"]),
    ("paragraph", ["De provincies en gemeenten werken in twaalf regio's samen aan de uitvoering van de "
                   "regiodeals. Deze notitie beschrijft hoe zij de afspraken vastleggen en wie welke rol krijgt."]),
    ("bold", ["Toelichting op de afspraken over een afwijkende werkwijze", "(tijdelijke regeling)"]),
    ("paragraph", ["Een regio mag afwijken van de standaardafspraken als de stuurgroep daarmee instemt en "
                   "het ministerie vooraf wordt ingelicht over de gevolgen voor de begroting."]),
    ("bullet", ["Knelpunten in de financiering (vooral bij de kleinere gemeenten)",
                "worden eerst in de stuurgroep van de regio besproken."]),
    ("bullet", ["Voor de evaluatie zijn drie bronnen nodig:",
                "de jaarverslagen, de interviews met de betrokken ambtenaren en de begrotingen van de "
                "deelnemende gemeenten."]),
    ("bullet", ["De voortgang wordt twee keer per jaar gemeld aan de gedeputeerde."]),
    ("heading", ["Literatuur"]),
    ("entry", ["Raad voor het Openbaar Bestuur (2019), Wisselwerking:",
               "de rol van provincies en gemeenten in de regionale samenwerking en de verdeling van de "
               "middelen over de regio's, Den Haag."]),
    ("entry", ["Planbureau voor de Leefomgeving (2021), Samen verder:",
               "een verkenning van de regionale opgaven voor wonen, werken en bereikbaarheid in de "
               "middelgrote steden, Den Haag."]),
    ("columns", []),
    ("paragraph", ["In de tweede helft van het jaar spraken de onderzoekers met de coördinatoren van alle "
                   "regio's. Zij noemden vooral drie knelpunten:",
                   "column",
                   "geld, tijd en de vraag wie eigenaar is van een project als meerdere gemeenten "
                   "bijdragen. De verslagen staan op de website van de provincie, onder www.regio-overleg.",
                   "column",
                   "nl/verslagen, en zijn voor iedereen in te zien."]),
]


def build_docx(path: Path) -> None:
    import docx
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Cm, Pt

    from make_pdfs import _columns  # noqa: PLC0415  (the same two-column section)

    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Liberation Serif", Pt(11)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    normal.paragraph_format.space_after = Pt(6)
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.5)
    for kind, lines in CONTENT:
        if kind == "heading":
            document.add_heading(lines[0], level=1)
            continue
        if kind == "columns":
            _columns(document.add_section(WD_SECTION.CONTINUOUS), 2)
            continue
        paragraph = document.add_paragraph(style="List Bullet" if kind == "bullet" else None)
        if kind == "entry":
            paragraph.paragraph_format.left_indent = Cm(1)
            paragraph.paragraph_format.first_line_indent = Cm(-1)
        for i, line in enumerate(lines):
            if line == "column":
                continue
            run = paragraph.add_run(line)
            run.bold = kind == "bold"
            if i + 1 < len(lines):
                run.add_break(WD_BREAK.COLUMN if lines[i + 1] == "column" else WD_BREAK.LINE)
    document.core_properties.author = "kwalitatief tests"
    document.save(str(path))


def references() -> list[str]:
    """One unit a paragraph or heading: its lines joined by spaces."""
    return [" ".join(line for line in lines if line != "column") for kind, lines in CONTENT if kind != "columns"]


def main() -> None:
    import sys

    sys.path.insert(0, str(HERE))
    source = HERE / f"{NAME}.docx"
    build_docx(source)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp, str(source)], check=True, capture_output=True)
        shutil.copy(Path(tmp) / f"{NAME}.pdf", HERE / f"{NAME}.pdf")
    (HERE / f"{NAME}.ref.txt").write_text("\n".join(references()) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
