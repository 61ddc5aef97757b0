"""PDF extraction: running headers and footers, hyphenation, paragraphs, columns, pages, bad files."""

from pathlib import Path

import pytest
from pdf_factory import draw_pdf

from kwalitatief.ingest import ExtractionError, extract_document
from kwalitatief.pdf import join_hyphenated

BODY = [
    "De stedelijke regio heeft de samen-",
    "werking tussen de gemeenten versterkt. Ook de BIS-",
    "aanvragen zijn samen voorbereid met de provincie Noord-",
    "Holland en andere partners.",
    "",
    "Een tweede alinea over de proeftuin.",
]


def test_running_header_and_page_numbers_are_removed(tmp_path: Path) -> None:
    pdf = draw_pdf(tmp_path / "p.pdf", [{"lines": BODY}] * 3)
    text = extract_document("p", pdf, "profiel").text
    assert "Cultuurprofiel Testregio" not in text
    assert "Pagina" not in text
    assert text.count("Een tweede alinea over de proeftuin.") == 3


def test_hyphenated_line_breaks_are_joined_but_real_hyphens_kept(tmp_path: Path) -> None:
    pdf = draw_pdf(tmp_path / "p.pdf", [{"lines": BODY}] * 2)
    text = extract_document("p", pdf, "profiel").text
    assert "samenwerking tussen de gemeenten" in text
    assert "BIS-aanvragen" in text
    assert "Noord-Holland" in text
    assert "samen-" not in text


def test_lines_become_paragraphs_and_paragraphs_run_over_page_breaks(tmp_path: Path) -> None:
    pages = [
        {"lines": ["Eerste alinea die netjes eindigt.", "", "Deze alinea loopt door over de"]},
        {"lines": ["paginagrens heen en eindigt hier.", "", "Laatste alinea."]},
    ]
    extracted = extract_document("p", draw_pdf(tmp_path / "p.pdf", pages), "profiel")
    paragraphs = extracted.text.split("\n\n")
    assert paragraphs == [
        "Eerste alinea die netjes eindigt.",
        "Deze alinea loopt door over de paginagrens heen en eindigt hier.",
        "Laatste alinea.",
    ]
    start = extracted.text.index("paginagrens")
    assert extracted.page_at(extracted.text.index("Deze alinea")) == 1
    assert extracted.page_at(start) == 2
    assert extracted.n_pages == 2


def test_two_column_page_is_read_column_by_column(tmp_path: Path) -> None:
    left = ["Links een eerste regel van de", "linkerkolom die doorloopt tot", "het einde van de kolom.",
            "", "Nog een alinea links die hier", "eindigt."]
    right = ["Rechts begint de tweede kolom", "met een eigen alinea die ook", "doorloopt.",
             "", "Tot slot een korte alinea", "rechts."]
    text = extract_document("p", draw_pdf(tmp_path / "p.pdf", [{"left": left, "right": right}] * 2),
                            "profiel").text
    assert "Links een eerste regel van de linkerkolom die doorloopt tot het einde van de kolom." in text
    assert "Rechts begint de tweede kolom met een eigen alinea die ook doorloopt." in text
    assert text.index("Nog een alinea links") < text.index("Rechts begint")


def test_join_hyphenated_rules() -> None:
    assert join_hyphenated("samen-", "werking") == "samenwerking"
    assert join_hyphenated("BIS-", "aanvragen") == "BIS-aanvragen"
    assert join_hyphenated("Arnhem-", "Nijmegen") == "Arnhem-Nijmegen"
    assert join_hyphenated("cultuur-", "en erfgoedbeleid") == "cultuur- en erfgoedbeleid"
    assert join_hyphenated("gewone", "regel") == "gewone regel"


def test_corrupt_pdf_is_an_extraction_error(tmp_path: Path) -> None:
    bad = tmp_path / "kapot.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    with pytest.raises(ExtractionError, match="corrupt"):
        extract_document("kapot", bad, "profiel")


def test_encrypted_pdf_is_an_extraction_error(tmp_path: Path) -> None:
    pdf = draw_pdf(tmp_path / "geheim.pdf", [{"lines": BODY}], encrypt="wachtwoord")
    with pytest.raises(ExtractionError, match="encrypted"):
        extract_document("geheim", pdf, "profiel")


def test_pdf_without_text_layer_is_an_extraction_error(tmp_path: Path) -> None:
    pdf = draw_pdf(tmp_path / "scan.pdf", [{"lines": []}], header=None, footer=None)
    with pytest.raises(ExtractionError, match="no text layer"):
        extract_document("scan", pdf, "profiel")


def test_ruled_table_rows_become_lines_with_cells(tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    path = tmp_path / "tabel.pdf"
    table = Table([["Partner", "Bijdrage (euro)"], ["Gemeente Enschede met een lange\nnaam", "120.000"],
                   ["Totaal", "440.000"]])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
    SimpleDocTemplate(str(path), pagesize=A4, invariant=1).build([table])
    text = extract_document("tabel", path, "profiel").text
    assert text.split("\n\n") == ["Partner | Bijdrage (euro)", "Gemeente Enschede met een lange naam | 120.000",
                                  "Totaal | 440.000"]
