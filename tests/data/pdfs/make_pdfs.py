"""Build the real-engine test PDFs of ``tests/data/pdfs/`` from ``src/nota.txt`` (run at authoring time only).

    python tests/data/pdfs/make_pdfs.py

The same Dutch policy note is typeset by three real-world engines, the way policy PDFs are made:

- ``nota_libreoffice.pdf``: a DOCX written with python-docx (justified text, automatic Dutch hyphenation,
  a running header, a footer with PAGE/NUMPAGES fields, a two-column section, a ruled table) converted by
  LibreOffice (``soffice --headless --convert-to pdf``);
- ``nota_latex.pdf``: pdfLaTeX (justified, hyphenated, indented paragraphs without spacing, fancyhdr header
  and footer, a ``multicols`` section, a ruled ``tabular``);
- ``nota_groff.pdf``: groff ``-ms`` through PostScript and Ghostscript's ``ps2pdf``: every word of a
  justified line placed on its own, a two-column section (``.2C``), a ``tbl`` table with all rules.

Next to each PDF: its source (``.docx``, ``.tex``, ``.ms``), ``<name>.ref.txt`` (one reference unit a line:
headings, paragraphs and table rows with cells joined by `` | ``, in reading order) and
``<name>.running.txt`` (the running header and footer lines; ``#`` stands for any number). CI only reads
the committed files. Needs: python-docx, Debian ``libreoffice-writer-nogui``, ``hyphen-nl``,
``texlive-latex-base`` (with ``lmodern``), ``groff``, ``ghostscript``.

Source format: ``# `` a heading, ``| a | b |`` a table row, ``== twee kolommen`` / ``== één kolom`` switch
the number of columns, any other line a paragraph.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "src" / "nota.txt"
HEADER = "Evaluatie regionale samenwerking – concept"
FOOTER = "Pagina # van #"


def read_source() -> list[tuple[str, object]]:
    """(kind, value): heading/paragraph text, table cells, or columns 1/2."""
    items: list[tuple[str, object]] = []
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("# "):
            items.append(("heading", line[2:]))
        elif line.startswith("|"):
            items.append(("row", [c.strip() for c in line.strip("|").split("|")]))
        elif line.startswith("== "):
            items.append(("columns", 2 if "twee" in line else 1))
        else:
            items.append(("paragraph", line))
    return items


def write_references(name: str, items: list[tuple[str, object]], footer: str) -> None:
    units = [" | ".join(v) if k == "row" else str(v) for k, v in items if k != "columns"]  # type: ignore[arg-type]
    (HERE / f"{name}.ref.txt").write_text("\n".join(units) + "\n", encoding="utf-8")
    (HERE / f"{name}.running.txt").write_text(f"{HEADER}\n{footer}\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------ LibreOffice

def _field(paragraph, instruction: str) -> None:  # noqa: ANN001
    """A simple field (PAGE, NUMPAGES) in a python-docx paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _columns(section, number: int) -> None:  # noqa: ANN001
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    cols = section._sectPr.find(qn("w:cols"))
    if cols is None:
        cols = OxmlElement("w:cols")
        section._sectPr.append(cols)
    cols.set(qn("w:num"), str(number))
    cols.set(qn("w:space"), "567")


def build_docx(items: list[tuple[str, object]], path: Path) -> None:
    import docx
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = docx.Document()
    settings = document.settings.element
    settings.append(OxmlElement("w:autoHyphenation"))
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Liberation Serif", Pt(11)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    normal.paragraph_format.space_after = Pt(6)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "nl-NL")
    normal.element.get_or_add_rPr().append(lang)
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.5)
    header = section.header.paragraphs[0]
    header.text = HEADER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Pagina ")
    _field(footer, "PAGE")
    footer.add_run(" van ")
    _field(footer, "NUMPAGES")
    rows: list[list[str]] = []
    for kind, value in items + [("end", None)]:
        if kind != "row" and rows:
            table = document.add_table(rows=0, cols=len(rows[0]))
            table.style = "Table Grid"
            for row in rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row):
                    cell.text = text
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.LEFT
            rows = []
        if kind == "heading":
            document.add_heading(str(value), level=1)
        elif kind == "paragraph":
            document.add_paragraph(str(value))
        elif kind == "row":
            rows.append(list(value))  # type: ignore[arg-type]
        elif kind == "columns":
            new = document.add_section(WD_SECTION.CONTINUOUS)
            _columns(new, int(value))  # type: ignore[arg-type]
    document.core_properties.author = "kwalitatief tests"
    document.save(str(path))


def libreoffice(items: list[tuple[str, object]]) -> None:
    source = HERE / "nota_libreoffice.docx"
    build_docx(items, source)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp, str(source)], check=True, capture_output=True)
        shutil.copy(Path(tmp) / "nota_libreoffice.pdf", HERE / "nota_libreoffice.pdf")
    write_references("nota_libreoffice", items, FOOTER)


# ------------------------------------------------------------------------------------------ LaTeX

def _tex_escape(text: str) -> str:
    return text.replace("&", r"\&").replace("%", r"\%").replace("_", r"\_").replace("–", "--")


def latex(items: list[tuple[str, object]]) -> None:
    body: list[str] = []
    rows: list[list[str]] = []
    for kind, value in items + [("end", None)]:
        if kind != "row" and rows:
            spec = "|" + "l|" * len(rows[0])
            body += [r"\begin{center}", rf"\begin{{tabular}}{{{spec}}}\hline"]
            body += [" & ".join(_tex_escape(c) for c in row) + r" \\ \hline" for row in rows]
            body += [r"\end{tabular}", r"\end{center}"]
            rows = []
        if kind == "heading":
            body.append(rf"\section*{{{_tex_escape(str(value))}}}")
        elif kind == "paragraph":
            body.append(_tex_escape(str(value)) + "\n")
        elif kind == "row":
            rows.append(list(value))  # type: ignore[arg-type]
        elif kind == "columns":
            body.append(r"\begin{multicols}{2}" if value == 2 else r"\end{multicols}")
    tex = "\n".join([
        r"\documentclass[11pt,a4paper]{article}",
        r"\usepackage[T1]{fontenc}", r"\usepackage[utf8]{inputenc}", r"\usepackage{lmodern}",
        r"\usepackage{multicol}", r"\usepackage{fancyhdr}",
        r"\pagestyle{fancy}", r"\fancyhf{}",
        rf"\lhead{{{_tex_escape(HEADER)}}}", r"\cfoot{Pagina \thepage\ van \pageref{LastPage}}",
        r"\begin{document}", *body, r"\label{LastPage}", r"\end{document}", ""])
    source = HERE / "nota_latex.tex"
    source.write_text(tex, encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(2):  # twice: the last page's number
            subprocess.run(["pdflatex", "-interaction=nonstopmode", "-output-directory", tmp, str(source)],
                           check=True, capture_output=True)
        shutil.copy(Path(tmp) / "nota_latex.pdf", HERE / "nota_latex.pdf")
    write_references("nota_latex", items, FOOTER)


# ------------------------------------------------------------------------------------------ groff + Ghostscript

def _roff_escape(text: str) -> str:
    text = text.replace("\\", r"\e")
    return ("\\&" + text) if text.startswith((".", "'")) else text


def groff(items: list[tuple[str, object]]) -> None:
    lines = [".nr PS 11", ".nr VS 13", ".nr PD 0.5v", ".nr PI 0", ".ds LH " + HEADER, ".ds CH", ".ds RH",
             ".ds CF Pagina %", ".LP"]
    rows: list[list[str]] = []
    for kind, value in items + [("end", None)]:
        if kind != "row" and rows:
            lines += [".TS", "allbox;", " ".join("l" for _ in rows[0]) + "."]
            lines += ["\t".join(row) for row in rows]
            lines += [".TE"]
            rows = []
        if kind == "heading":
            lines += [".SH", _roff_escape(str(value)), ".LP"]
        elif kind == "paragraph":
            lines += [".PP", _roff_escape(str(value))]
        elif kind == "row":
            rows.append(list(value))  # type: ignore[arg-type]
        elif kind == "columns":
            lines.append(".2C" if value == 2 else ".1C")
    source = HERE / "nota_groff.ms"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    postscript = subprocess.run(["groff", "-k", "-t", "-ms", "-Tps", "-dpaper=a4", "-P-pa4", str(source)],
                                check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        ps = Path(tmp) / "nota.ps"
        ps.write_bytes(postscript)
        subprocess.run(["ps2pdf", "-sPAPERSIZE=a4", str(ps), str(HERE / "nota_groff.pdf")], check=True)
    write_references("nota_groff", items, "Pagina #")


if __name__ == "__main__":
    items = read_source()
    libreoffice(items)
    latex(items)
    groff(items)
    for pdf in sorted(HERE.glob("*.pdf")):
        print(f"{pdf.name}: {pdf.stat().st_size:,} bytes")
