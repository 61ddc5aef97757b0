"""PDFs made by real engines (LibreOffice, pdfLaTeX, groff + Ghostscript), scored against their reference texts.

The PDFs in tests/data/pdfs/ were generated once by tests/data/pdfs/make_pdfs.py (the policy note ``nota_*``)
and make_layouts.py (``lijsten_libreoffice.pdf``); these tests only read them.
"""

import importlib.util
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from kwalitatief.ingest import ExtractionError, extract_document

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "pdfs"
PDFS = sorted(DATA.glob("nota_*.pdf"))
LAYOUTS = DATA / "lijsten_libreoffice.pdf"

_spec = importlib.util.spec_from_file_location("real_pdfs", ROOT / "benchmarks" / "real_pdfs.py")
real_pdfs = sys.modules["real_pdfs"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(real_pdfs)


def test_the_set_holds_each_engine() -> None:
    producers = " ".join(pdfium.PdfDocument(str(p)).get_metadata_dict().get("Producer", "") for p in PDFS)
    assert all(engine in producers for engine in ("LibreOffice", "pdfTeX", "Ghostscript"))


@pytest.mark.parametrize("pdf", PDFS, ids=[p.stem for p in PDFS])
def test_paragraphs_whole_in_reading_order_without_running_lines(pdf: Path) -> None:
    score = real_pdfs.score_pdf(pdf)
    assert score.units >= 20
    assert score.whole >= 0.98
    assert score.order >= 0.95
    assert score.leaks == 0


@pytest.mark.parametrize("pdf", PDFS, ids=[p.stem for p in PDFS])
def test_engine_hyphenation_is_undone_and_real_hyphens_stay(pdf: Path) -> None:
    raw = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(str(pdf)))
    assert "\ufffe" in raw or "-\r\n" in raw  # the engine did break words at line ends
    text = extract_document(pdf.stem, pdf, "beleid").text
    assert "\ufffe" not in text and "\x02" not in text
    assert "ICT-ondersteuning" in text and "AVG-toets" in text
    words = set(real_pdfs.norm(w) for w in (DATA / "src" / "nota.txt").read_text(encoding="utf-8").split())
    broken = [w for w in text.split() if real_pdfs.norm(w) not in words and not w.startswith("Pagina")]
    if "groff" in pdf.stem:  # PDFium misses some word spaces of Ghostscript's TJ arrays (README, known limits)
        assert len(broken) <= 0.025 * len(text.split())
    else:
        assert broken == []


@pytest.mark.parametrize("pdf", PDFS, ids=[p.stem for p in PDFS])
def test_table_rows_and_pages(pdf: Path) -> None:
    extracted = extract_document(pdf.stem, pdf, "beleid")
    rows = [extracted.text[b.start:b.end] for b in extracted.blocks if b.kind == "table"]
    assert rows == ["Gemeente | Bijdrage per jaar | Deelnemende scholen", "Gemeente A | 120.000 euro | 14",
                    "Gemeente B | 85.000 euro | 9", "Gemeente C | 40.500 euro | 4", "Totaal | 245.500 euro | 27"]
    headings = [extracted.text[b.start:b.end] for b in extracted.blocks if b.kind == "heading"]
    assert headings[:3] == ["Samenvatting", "Aanleiding en vraagstelling", "Werkwijze"]
    assert extracted.page_at(0) == 1
    assert extracted.page_at(len(extracted.text) - 1) == extracted.n_pages == len(pdfium.PdfDocument(str(pdf)))


def test_lines_that_end_like_a_paragraph_stay_in_their_paragraph() -> None:
    """LibreOffice: a bold heading whose second line ends in ")", list items and literature entries with a
    hanging indent after a line ending in ")" or ":", a sentence running over column and page breaks after
    a ":" and after a web address ending in "."."""
    extracted = extract_document(LAYOUTS.stem, LAYOUTS, "beleid")
    blocks = [(b.kind, extracted.text[b.start:b.end]) for b in extracted.blocks]
    assert [text for kind, text in blocks if kind == "heading"] == [
        "Regionale samenwerking in de praktijk",
        "Toelichting op de afspraken over een afwijkende werkwijze (tijdelijke regeling)", "Literatuur"]
    paragraphs = [text for _, text in blocks]
    reference = (DATA / "lijsten_libreoffice.ref.txt").read_text(encoding="utf-8").splitlines()
    missing = [unit for unit in reference if not any(unit in paragraph for paragraph in paragraphs)]
    assert missing == []
    assert paragraphs[4].startswith("• Knelpunten in de financiering (vooral bij de kleinere gemeenten) worden")
    assert paragraphs[-1].endswith("onder www.regio-overleg. nl/verslagen, en zijn voor iedereen in te zien.")
    assert extracted.page_at(len(extracted.text) - 1) == 2
    score = real_pdfs.score_pdf(LAYOUTS)
    assert (score.whole, score.order, score.leaks) == (1.0, 1.0, 0)


def test_scores_notice_scrambled_and_leaking_text() -> None:
    reference = ["Eerste alinea over de samenwerking.", "Tweede alinea over de financiering.",
                 "Derde alinea met de conclusies."]
    assert real_pdfs.score(reference, ["Kop van de nota #"], reference) == real_pdfs.Score(3, 1.0, 1.0, 0)
    shuffled = real_pdfs.score(reference, ["Kop van de nota #"], [reference[2], reference[0], "Kop van de nota 3", reference[1], "12"])
    assert shuffled.order == 0.5 and shuffled.leaks == 2
    split = real_pdfs.score(reference, [], ["Eerste alinea over de", "samenwerking.", *reference[1:]])
    assert split.whole == pytest.approx(2 / 3)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_pages_read_as_shown(tmp_path: Path, rotation: int) -> None:
    """A page stored turned (content drawn rotated, ``/Rotate`` turning it back), as scanners and landscape
    exports do, reads like the upright original."""
    source = DATA / "nota_libreoffice.pdf"
    document = pdfium.PdfDocument(str(source))
    for page in document:
        w, h = page.get_size()
        a, b, c, d, e, f = {90: (0, 1, -1, 0, h, 0), 180: (-1, 0, 0, -1, w, h), 270: (0, -1, 1, 0, 0, w)}[rotation]
        for obj in list(page.get_objects(max_depth=1)):
            obj.transform(pdfium.PdfMatrix(a, b, c, d, e, f))
        page.gen_content()
        page.set_mediabox(0, 0, *((h, w) if rotation in (90, 270) else (w, h)))
        page.set_rotation(rotation)
    rotated = tmp_path / "gedraaid.pdf"
    document.save(str(rotated))
    assert extract_document("gedraaid", rotated, "beleid").text == extract_document("nota", source, "beleid").text


def test_scanned_pdf_names_the_remedy(tmp_path: Path) -> None:
    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)
    scan = tmp_path / "scan.pdf"
    document.save(str(scan))
    with pytest.raises(ExtractionError, match=r"scanned, no text layer; run OCR \(e\.g\. ocrmypdf\) first"):
        extract_document("scan", scan, "beleid")


def test_paragraph_cuts_tell_a_broken_sentence_from_a_heading_or_a_paragraph_end() -> None:
    units = [real_pdfs.norm(u) for u in (
        "Werkwijze De regio's kozen elk een eigen aanpak.",  # heading and text in one engine block
        "De stuurgroep besluit. Daarna volgt de uitvoering.",  # two paragraphs in one engine block
        "De kosten worden gedeeld door alle deelnemende gemeenten.",  # we break it
        "Eerste kolom tweede kolom")]  # a table the engines read by columns
    paragraphs = ["Werkwijze", "De regio's kozen elk een eigen aanpak.", "De stuurgroep besluit.",
                  "Daarna volgt de uitvoering.", "De kosten worden gedeeld door", "alle deelnemende gemeenten.",
                  "tweede kolom | Eerste kolom"]
    kinds = ["heading"] + ["paragraph"] * 5 + ["table"]
    assert real_pdfs.paragraph_cuts(units, paragraphs, kinds) == {
        "heading": 1, "sentence end": 1, "mid-sentence": 1, "not in order": 1}


def test_leaks_are_folios_and_running_lines_where_they_stand() -> None:
    """A chapter title equal to its running head is body text, a chart's axis number is no page number; a
    running head and a number that stands in the page's band are leaks (positions from pdfminer)."""
    reference = ["Eerste alinea over de samenwerking.", "Tweede alinea over de financiering."]
    running = ["Hoofdstuk # Samenwerking in de regio"]
    where = real_pdfs.Layout(band_numbers={2: {"14"}}, body=[real_pdfs.norm("Hoofdstuk 3 Samenwerking in de regio")],
                             running=[real_pdfs.norm("14 Hoofdstuk 3 Samenwerking in de regio"),
                                      real_pdfs.norm("drukproef.indd 14 01/02/2026 10:37")])
    paragraphs = ["Hoofdstuk 3 Samenwerking in de regio", reference[0], "40", "14", reference[1]]
    assert real_pdfs.score(reference, running, paragraphs, [1, 1, 1, 2, 2], where).leaks == 1  # the folio 14
    assert real_pdfs.score(reference, running, paragraphs + ["Hoofdstuk 3 Samenwerking in de regio"],
                           [1, 1, 1, 2, 2, 2], where).leaks == 2  # and the head repeated beyond the title
    # a printer's slug split by the engines is running text, not a reference unit to find
    assert real_pdfs.score(reference + ["01/02/2026 10:37"], running, paragraphs, [1] * 5, where).units == 2
    # a cover's title equal to the running head, set over two lines, is body text too
    cover = real_pdfs.Layout(band_numbers={}, body=[real_pdfs.norm("Hoofdstuk 3 Samenwerking"),
                                                    real_pdfs.norm("in de regio")], running=[])
    assert real_pdfs.score(reference, running, ["Hoofdstuk 3 Samenwerking in de regio"] + reference,
                           [1, 1, 1], cover).leaks == 0


def _place(document: pdfium.PdfDocument, page: pdfium.PdfPage, text: str, x: float, y: float, grey: int = 0) -> None:
    """Put a line of Helvetica 11 at (x, y) on a page (``page.gen_content()`` afterwards)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    obj = pdfium_c.FPDFPageObj_NewTextObj(document.raw, b"Helvetica", 11.0)
    pdfium_c.FPDFPageObj_SetFillColor(obj, grey, grey, grey, 255)
    encoded = (text + "\0").encode("utf-16-le")
    pdfium_c.FPDFText_SetText(obj, ctypes.cast(ctypes.create_string_buffer(encoded, len(encoded)),
                                               ctypes.POINTER(ctypes.c_ushort)))
    pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
    pdfium_c.FPDFPage_InsertObject(page.raw, obj)


def test_text_outside_the_page_is_no_running_line_of_the_scores(tmp_path: Path) -> None:
    """The benchmark's positions (pdfminer): text placed beyond a page's box is on no page, so the same
    text outside every page is no running header (PDF.js's issue1350 cuts one sheet into pages by their
    boxes), while a head inside the top band of each page is."""
    document = pdfium.PdfDocument.new()
    for number in (1, 2, 3):
        page = document.new_page(595, 842)
        _place(document, page, "Kopie voor de administratie van de stichting", 72, 900)
        _place(document, page, "Verslag van de stuurgroep regionale samenwerking", 72, 815)
        _place(document, page, f"Op pagina {number} staat de tekst van het verslag.", 72, 600)
        page.gen_content()
    path = tmp_path / "buiten.pdf"
    document.save(str(path))
    assert real_pdfs._running_keys(path) == ["Verslag van de stuurgroep regionale samenwerking"]
    assert real_pdfs.layout(path).running == [real_pdfs.norm("Verslag van de stuurgroep regionale samenwerking")]
    assert "kopievoordeadministratie" not in " ".join(real_pdfs.layout(path).body)


def test_text_drawn_twice_at_one_place_is_read_once(tmp_path: Path) -> None:
    """Overprinted text (a bold effect, a box's text drawn twice) comes out once; the same words elsewhere
    on the page stay; text placed outside the page (nobody sees it) is not read."""
    document = pdfium.PdfDocument.new()
    page = document.new_page(595, 842)
    placed = [("De stuurgroep besluit over de verdeling.", 72, 760, 0)]
    placed += [(f"Daarna volgt stap {i} van de evaluatie.", 72, 740 - 14 * i, 0) for i in range(5)]
    placed += [("De stuurgroep besluit over de verdeling.", 72.4, 760.2, 40),  # again, later, in another black
               ("De stuurgroep besluit over de verdeling.", 72, 640, 0)]
    placed += [("Dit staat buiten de pagina en ziet niemand.", 72, 900, 0)]  # above the page's top (842)
    for text, x, y, grey in placed:
        _place(document, page, text, x, y, grey)
    page.gen_content()
    path = tmp_path / "dubbel.pdf"
    document.save(str(path))
    text = extract_document("dubbel", path, "beleid").text
    assert text.count("De stuurgroep besluit over de verdeling.") == 2
    assert all(f"Daarna volgt stap {i} van de evaluatie." in text for i in range(5))
    assert "buiten de pagina" not in text


def test_reference_paragraphs_are_runs_both_engines_keep_in_one_block() -> None:
    poppler = ("De gemeenten werken samen in de regio\nen delen de kosten van het programma.\n"
               "Het college besluit in juni over de verdeling\nvan de middelen voor het volgende jaar.\n\n"
               "Kop\n\fDe evaluatie volgt in het najaar van dit jaar\nmet een rapport aan de raad.\n")
    miner = ("De gemeenten werken samen in de regio\nen delen de kosten van het programma.\n\n"
             "Het college besluit in juni over de verdeling\nvan de middelen voor het volgende jaar.\n\n"
             "Kop\n\nDe evaluatie volgt in het najaar van dit jaar\nmet een rapport aan de raad.\n\f")
    assert real_pdfs.agreed_paragraphs(poppler, miner, []) == [
        "De gemeenten werken samen in de regio en delen de kosten van het programma.",
        "Het college besluit in juni over de verdeling van de middelen voor het volgende jaar.",
        "De evaluatie volgt in het najaar van dit jaar met een rapport aan de raad."]
    running = [real_pdfs.norm("De evaluatie volgt in het najaar van dit jaar met een rapport aan de raad. 3")]
    assert len(real_pdfs.agreed_paragraphs(poppler, miner, running)) == 2
