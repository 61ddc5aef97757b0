"""Plain-text input: UTF-16/32 is read correctly, binary content is refused with the reason (finding 7)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from corpus_factory import TRANSCRIPT_1, make_corpus

from kwalitatief.corpus import load_register
from kwalitatief.ingest import ExtractionError, decode_text, extract_corpus, extract_document

TEXT = TRANSCRIPT_1.replace("tevreden", "tevreden over het café — één ’goede’ zaak")


def _iconv(text: str, encoding: str) -> bytes:
    """Bytes written by iconv (GNU libc), not by Python's codecs."""
    return subprocess.run(["iconv", "-f", "UTF-8", "-t", encoding], input=text.encode("utf-8"),
                          capture_output=True, check=True).stdout


needs_iconv = pytest.mark.skipif(shutil.which("iconv") is None, reason="iconv not installed")


@needs_iconv
@pytest.mark.parametrize("encoding, name", [("UTF-16", "utf-16"), ("UTF-16LE", "utf-16-le"),
                                            ("UTF-16BE", "utf-16-be"), ("UTF-32", "utf-32"),
                                            ("UTF-32LE", "utf-32-le")])
def test_utf16_and_utf32_transcripts_are_read_with_their_turns(tmp_path, encoding, name):
    """Red-team step: a UTF-16 transcript was refused with a misleading 'no speaker turns found'."""
    raw = _iconv(TEXT, encoding)
    text, found = decode_text(raw)
    assert text == TEXT and found.startswith(name)
    path = tmp_path / "int.txt"
    path.write_bytes(raw)
    doc = extract_document("int", path, "transcript")
    assert [t.role for t in doc.turns] == ["interviewer", "respondent", "interviewer", "respondent"]
    assert "één ’goede’ zaak" in doc.text and "\x00" not in doc.text


def _libreoffice_pdf(tmp_path: Path) -> Path:
    source = tmp_path / "brief.txt"
    source.write_text("Een brief over de regio.\n", encoding="utf-8")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(source)],
                   check=True, capture_output=True, timeout=120)
    return tmp_path / "pdf" / "brief.pdf"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
@pytest.mark.parametrize("doc_type", ["overig", "transcript"])
def test_a_pdf_renamed_txt_is_refused_with_the_reason(tmp_path, doc_type):
    """Red-team step: as doc_type overig a PDF renamed .txt was accepted as NUL-filled text, status ok."""
    renamed = tmp_path / "brief.txt"
    shutil.copy(_libreoffice_pdf(tmp_path), renamed)
    with pytest.raises(ExtractionError, match="not a text file but a PDF file.*extension .pdf"):
        extract_document("brief", renamed, doc_type)


@pytest.mark.parametrize("raw, reason", [
    (b"\x00" * 5000, "the file is empty"),
    (b"Dit is tekst\x00\x00\x01\x02\x00\xff\xfe\x00 en nog wat\x00" * 40, "binary data, not text"),
    (bytes(range(256)) * 20, "binary data, not text"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, "ZIP archive"),
    (b"{\\rtf1\\ansi Hallo}", "RTF file"),
])
def test_binary_content_is_refused_also_for_doc_type_overig(tmp_path, raw, reason):
    path = tmp_path / "x.txt"
    path.write_bytes(raw)
    with pytest.raises(ExtractionError, match=reason):
        extract_document("x", path, "overig")


def test_a_docx_renamed_txt_is_refused(tmp_path):
    docx = next(Path(__file__).resolve().parents[1].glob("corpus/transcripts/*.docx"))
    path = tmp_path / "x.txt"
    shutil.copy(docx, path)
    with pytest.raises(ExtractionError, match="a Word document needs the extension .docx"):
        extract_document("x", path, "overig")


def test_utf8_and_cp1252_still_read_as_before():
    assert decode_text("café ’".encode("utf-8")) == ("café ’", "utf-8")
    assert decode_text("\ufeffcafé".encode("utf-8")) == ("café", "utf-8")
    assert decode_text("café – één".encode("cp1252")) == ("café – één", "cp1252")
    assert decode_text(b"regel\tmet tab\r\nen\fpagina") == ("regel\tmet tab\r\nen\fpagina", "utf-8")


def test_an_unreadable_document_becomes_a_problem_and_the_others_go_on(tmp_path):
    corpus = make_corpus(tmp_path)
    (corpus / "transcripts" / "int_1.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    extraction = extract_corpus(load_register(corpus))
    assert [p["doc_id"] for p in extraction.problems] == ["int_1"]
    assert "binary data" in extraction.problems[0]["message"]
    assert {d["doc_id"] for d in extraction.documents} == {"int_2", "profiel_twente"}
