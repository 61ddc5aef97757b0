"""Transcripts: speaker turns, roles, timestamps, encodings and DOCX."""

from pathlib import Path

import docx

from kwalitatief.ingest import build_transcript, decode_text, extract_document


def test_speaker_turns_and_roles_with_short_prefixes(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("Preambule van het transcript.\n\nI: Wat vindt u?\n\nR: Goed.\n\nEn nog iets.\n\nI: Dank.\n",
                    encoding="utf-8")
    doc = extract_document("t", path, "transcript")
    assert [(t.speaker, t.role) for t in doc.turns] == [("I", "interviewer"), ("R", "respondent"),
                                                        ("I", "interviewer")]
    respondent = doc.turns[1]
    assert doc.text[respondent.start:respondent.end] == "Goed.\n\nEn nog iets."
    assert [b.kind for b in doc.blocks] == ["preamble", "turn", "turn", "turn", "turn"]


def test_named_speakers_and_timestamps() -> None:
    paragraphs = [
        "[00:01:02] Interviewer: Hoe begon het?",
        "[00:01:10] Marieke de Boer: Met een oproep van de minister.",
        "[00:03:00] Interviewer: En toen?",
        "[00:03:05] Marieke de Boer: Toen gingen we aan de slag. Kijk: zo ging dat.",
    ]
    doc = build_transcript("t", paragraphs, "txt")
    assert [(t.speaker, t.role, t.timestamp) for t in doc.turns] == [
        ("Interviewer", "interviewer", "00:01:02"), ("Marieke de Boer", "respondent", "00:01:10"),
        ("Interviewer", "interviewer", "00:03:00"), ("Marieke de Boer", "respondent", "00:03:05"),
    ]
    assert doc.text[doc.turns[1].start:doc.turns[1].end] == "Met een oproep van de minister."


def test_two_named_speakers_interviewer_is_the_one_asking() -> None:
    paragraphs = ["Sanne: Wat is het doel?", "Piet Jansen: Samenwerking.", "Sanne: Waarom?",
                  "Piet Jansen: Omdat het moet."]
    doc = build_transcript("t", paragraphs, "txt")
    assert {t.speaker: t.role for t in doc.turns} == {"Sanne": "interviewer", "Piet Jansen": "respondent"}


def test_cp1252_transcript_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes("I: Hoe was het?\n\nR: Geïnteresseerd, zo’n € 50.000 per jaar.\n".encode("cp1252"))
    doc = extract_document("t", path, "transcript")
    assert doc.encoding == "cp1252"
    assert "Geïnteresseerd, zo’n € 50.000 per jaar." in doc.text


def test_utf8_is_preferred() -> None:
    text, encoding = decode_text("café ’".encode("utf-8"))
    assert (text, encoding) == ("café ’", "utf-8")


def test_docx_transcript_with_table(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("I: Wat vond u van de proeftuin?")
    document.add_paragraph("R: Waardevol.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Onderwerp"
    table.rows[0].cells[1].text = "Proeftuin"
    path = tmp_path / "t.docx"
    document.save(path)
    doc = extract_document("t", path, "transcript")
    assert [t.role for t in doc.turns] == ["interviewer", "respondent"]
    assert "Onderwerp | Proeftuin" in doc.text
