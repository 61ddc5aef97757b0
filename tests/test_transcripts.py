"""Transcripts: speaker turns, roles, timestamps, encodings, DOCX and subtitles."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from corpus_factory import MANIFEST_FIELDS, REGIONS, RESPONDENTS, write_csv, write_study

from kwalitatief import pseudonymise as ps
from kwalitatief.corpus import load_register
from kwalitatief.document import Extracted
from kwalitatief.ingest import decode_text, extract_corpus, extract_document
from kwalitatief.transcripts import TranscriptError, build_transcript, label_name, label_role, text_paragraphs


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


# --------------------------------------------------------------------------------------------
# Forms as transcription services and researchers deliver them (fixtures in tests/data/transcripts/)
# --------------------------------------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "transcripts"


def _register(root: Path, documents: list[tuple[str, Path]]) -> None:
    """A corpus under ``root/corpus`` whose manifest lists the given transcript files."""
    corpus = root / "corpus"
    (corpus / "transcripts").mkdir(parents=True)
    write_csv(corpus / "regions.csv", REGIONS)
    write_csv(corpus / "respondents.csv", RESPONDENTS)
    rows = []
    for doc_id, source in documents:
        shutil.copy(source, corpus / "transcripts" / source.name)
        rows.append({"doc_id": doc_id, "path": f"transcripts/{source.name}", "doc_type": "transcript",
                     "region": "Twente", "respondent_id": "R1", "date": "", "title": ""})
    write_csv(corpus / "manifest.csv", rows, MANIFEST_FIELDS)
    write_study(root)


def _turns(name: str) -> tuple[Extracted, list[tuple[str, str, str | None, str]]]:
    doc = extract_document("t", DATA / name, "transcript")
    return doc, [(t.speaker, t.role, t.timestamp, doc.text[t.start:t.end]) for t in doc.turns]


def _no_timestamp_in_coded_text(doc: Extracted) -> None:
    for block in doc.blocks:
        if block.kind == "turn":
            assert not re.search(r"\d:\d\d", doc.text[block.start:block.end].replace("10:30", "")), block


def test_speaker_header_with_bracketed_timestamp_and_text_on_the_next_lines() -> None:
    doc, turns = _turns("header_brackets.txt")
    assert turns == [
        ("Spreker 1", "interviewer", "00:00:05", "Wat is uw rol binnen de proeftuin?"),
        ("Spreker 2", "respondent", "00:00:09", "Ik ben coördinator bij de bibliotheek. Ik regel de "
         "samenwerking met de scholen.\n\nDaarnaast zit ik in de stuurgroep."),
        ("Spreker 1", "interviewer", "00:01:12", "Hoe verloopt die samenwerking?"),
        ("Spreker 2", "respondent", "00:01:15", "Wisselend. Met sommige scholen gaat het goed, met andere nog niet."),
    ]
    assert [b.kind for b in doc.blocks][:2] == ["preamble", "turn"]
    assert all(t.name is None for t in doc.turns)  # 'Spreker 1' is a role, not a name to pseudonymise
    _no_timestamp_in_coded_text(doc)


def test_speaker_header_with_bare_timestamp_happy_scribe_and_otter() -> None:
    doc, turns = _turns("header_bare.txt")
    assert [(s, r, ts) for s, r, ts, _ in turns] == [
        ("Spreker 1", "interviewer", "00:00:05"), ("Spreker 2", "respondent", "0:41"),
        ("Spreker 1", "interviewer", "00:01:30"), ("Spreker 2", "respondent", "00:01:34"),
    ]
    assert turns[1][3] == "De gemeente vroeg ons mee te denken over het regioprofiel. Dat was in het voorjaar."
    _no_timestamp_in_coded_text(doc)


def test_timestamp_before_the_label_in_parentheses_or_bare() -> None:
    doc, turns = _turns("timestamp_first.txt")
    assert turns == [
        ("I", "interviewer", "00:00:05", "Wat is uw rol?"),
        ("R", "respondent", "00:00:09", "Ik maak de programmering voor het theater."),
        ("I", "interviewer", "00:10:04", "En wat vindt u van de regeling?"),
        ("R", "respondent", "00:10:12", "Die is te ingewikkeld voor kleine makers."),
    ]
    assert "[00:10:00]" not in doc.text  # a time marker on a line of its own is no text
    _no_timestamp_in_coded_text(doc)


def test_timestamp_after_the_label_and_times_of_day_in_the_text_stay() -> None:
    doc, turns = _turns("timestamp_after.txt")
    assert [(s, ts) for s, _, ts, _ in turns] == [("I", "00:00:05"), ("R", "00:00:09"), ("I", "00:00:40"),
                                                 ("R", "00:00:44")]
    assert turns[1][3] == "Ik ben beleidsmedewerker. Om 10:30 begint mijn eerste overleg."
    _no_timestamp_in_coded_text(doc)


def test_role_labels_numbered_labels_and_a_title_before_a_name() -> None:
    doc, turns = _turns("role_labels.txt")
    assert [(t.speaker, t.role, t.name) for t in doc.turns] == [
        ("Interviewer 1", "interviewer", None), ("Moeder", "respondent", None),
        ("Dokter Bakker", "respondent", "Bakker"), ("Interviewer 1", "interviewer", None),
        ("Geïnterviewde", "respondent", None), ("Moeder", "respondent", None),
    ]


def test_numbered_speakers_the_one_asking_is_the_interviewer() -> None:
    _, turns = _turns("numbered_speakers.txt")
    assert {s: r for s, r, _, _ in turns} == {"Spreker 1": "interviewer", "Spreker 2": "respondent"}


@pytest.mark.parametrize("label, role, name", [
    ("Respondent 3", "respondent", None), ("Interviewer 1", "interviewer", None), ("Spreker 2", None, None),
    ("SPEAKER_00", None, None), ("Geïnterviewde", "respondent", None), ("R1", "respondent", None),
    ("Moeder", None, None), ("Dokter", None, None), ("Marieke de Boer", None, "Marieke de Boer"),
    ("Wethouder Jansen", None, "Jansen"), ("Interviewer (Sanne)", None, "Sanne"),
])
def test_label_roles_and_names(label: str, role: str | None, name: str | None) -> None:
    assert (label_role(label), label_name(label)) == (role, name)


def test_a_phrase_before_a_colon_is_no_speaker() -> None:
    doc = build_transcript("t", ["I: Wat ging goed?", "R: Veel.", "Wat wij wilden: meer geld.",
                                 "I: En verder?", "R: Wat wij wilden: rust."], "txt")
    assert [t.speaker for t in doc.turns] == ["I", "R", "I", "R"]
    assert doc.text[doc.turns[1].start:doc.turns[1].end] == "Veel.\n\nWat wij wilden: meer geld."


def test_webvtt_voice_tags_cues_of_one_speaker_become_one_turn() -> None:
    doc, turns = _turns("teams.vtt")
    assert turns == [
        ("Sanne Veldhuis", "interviewer", "00:00:05", "Welkom. Wat is uw rol bij het festival?"),
        ("Joris Mulder", "respondent", "00:00:09",
         "Ik ben zakelijk leider. Daarvoor werkte ik bij een poppodium in de regio."),
        ("Sanne Veldhuis", "interviewer", "00:00:17", "Hoe kijkt u terug op de proeftuin?"),
        ("Joris Mulder", "respondent", "00:00:20", "Positief, al was de financiering lastig."),
    ]
    assert doc.source_type == "vtt"
    assert "-->" not in doc.text and "<v" not in doc.text and "1f2c7a8e" not in doc.text
    assert [t.name for t in doc.turns][:2] == ["Sanne Veldhuis", "Joris Mulder"]


def test_webvtt_with_the_speaker_before_the_cue_text() -> None:
    doc, turns = _turns("zoom.vtt")
    assert [(s, r) for s, r, _, _ in turns] == [("Interviewer", "interviewer"), ("Eline de Graaf", "respondent"),
                                               ("Interviewer", "interviewer"), ("Eline de Graaf", "respondent")]
    assert turns[1][3] == "Uit een oproep van het fonds. We kenden elkaar al van eerdere projecten."
    _no_timestamp_in_coded_text(doc)


def test_srt_cues_without_a_label_continue_the_turn() -> None:
    doc, turns = _turns("interview.srt")
    assert turns[1] == ("Spreker 2", "respondent", "00:00:05",
                        "Wij maken voorstellingen voor jong publiek in de hele provincie.")
    assert len(turns) == 4 and "-->" not in doc.text
    _no_timestamp_in_coded_text(doc)


@pytest.mark.parametrize("name, where, says", [
    ("broken_no_labels.txt", "line 1", "no speaker turns found"),
    ("broken_timestamp.txt", "line 5", "a timestamp without a speaker label"),
    ("broken_timing.srt", "line 6", "not a cue timing"),
])
def test_unreadable_turns_name_the_line_and_the_accepted_forms(name: str, where: str, says: str) -> None:
    with pytest.raises(TranscriptError) as caught:
        extract_document("t", DATA / name, "transcript")
    message = str(caught.value)
    assert message.startswith(f"{where}: {says}")
    if "cue timing" not in says:
        assert "Spreker 1 [00:00:05]" in message and "<v Spreker>" in message


def test_subtitles_without_speakers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\nGoedemorgen.\n\n2\n00:00:03,000 --> 00:00:04,000\n"
                    "Dag.\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match=r"^line 2: the cues name no speaker"):
        extract_document("t", path, "transcript")


def test_one_broken_transcript_is_a_problem_with_its_line_the_others_go_on(tmp_path: Path) -> None:
    _register(tmp_path, [("ok", DATA / "teams.vtt"), ("kapot", DATA / "broken_timestamp.txt"),
                              ("ook_ok", DATA / "header_brackets.txt")])
    result = extract_corpus(load_register(tmp_path / "corpus"))
    assert [d["doc_id"] for d in result.documents] == ["ok", "ook_ok"]
    assert [(p["doc_id"], p["message"].split(":")[0]) for p in result.problems] == [("kapot", "line 5")]


# --------------------------------------------------------------------------------------------
# Word: speaker names in bold paragraphs, speaker | text tables
# --------------------------------------------------------------------------------------------

def _bold_docx(path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Interview met een fondsmedewerker (fictief)").runs[0].bold = True
    for name, paragraphs in [("Interviewer", ["Wat doet het fonds in de regio?"]),
                             ("Lotte Hendriks", ["We steunen makers met kleine bijdragen.",
                                                 "Interviewer: zo noemen wij onze adviseurs niet."]),
                             ("Interviewer", ["Hoe vaak?"]),
                             ("Lotte Hendriks", ["Twee keer per jaar."])]:
        document.add_paragraph().add_run(name).bold = True
        for text in paragraphs:
            document.add_paragraph(text)
    document.save(path)


def test_docx_with_speaker_names_in_bold_paragraphs(tmp_path: Path) -> None:
    _bold_docx(tmp_path / "t.docx")
    doc = extract_document("t", tmp_path / "t.docx", "transcript")
    assert [(t.speaker, t.role) for t in doc.turns] == [("Interviewer", "interviewer"), ("Lotte Hendriks", "respondent"),
                                                        ("Interviewer", "interviewer"), ("Lotte Hendriks", "respondent")]
    answer = doc.turns[1]
    assert doc.text[answer.start:answer.end].strip() == (
        "We steunen makers met kleine bijdragen.\n\nInterviewer: zo noemen wij onze adviseurs niet.")
    assert doc.blocks[0].kind == "preamble"  # the bold title once is no speaker


def _table_docx(path: Path, with_time: bool) -> None:
    document = docx.Document()
    document.add_paragraph("Transcript (fictief)")
    rows = [("Spreker", "Tekst"), ("Interviewer", "Wat is de opdracht van de regio?"),
            ("Respondent 3", "Samenwerken over de gemeentegrenzen heen."), ("", "Dat is nieuw voor ons."),
            ("Interviewer", "Lukt dat?"), ("Respondent 3", "Steeds beter.")]
    table = document.add_table(rows=len(rows), cols=3 if with_time else 2)
    for number, (speaker, text) in enumerate(rows):
        cells = table.rows[number].cells
        if with_time:
            cells[0].text = "Tijd" if number == 0 else f"00:0{number}:00"
        cells[-2].text, cells[-1].text = speaker, text
    document.save(path)


@pytest.mark.parametrize("with_time", [False, True])
def test_docx_with_a_speaker_text_table(tmp_path: Path, with_time: bool) -> None:
    _table_docx(tmp_path / "t.docx", with_time)
    doc = extract_document("t", tmp_path / "t.docx", "transcript")
    assert [(t.speaker, t.role, t.name) for t in doc.turns] == [
        ("Interviewer", "interviewer", None), ("Respondent 3", "respondent", None),
        ("Interviewer", "interviewer", None), ("Respondent 3", "respondent", None)]
    assert doc.text[doc.turns[1].start:doc.turns[1].end] == (
        "Samenwerken over de gemeentegrenzen heen.\n\nDat is nieuw voor ons.")
    assert [t.timestamp for t in doc.turns] == (["00:01:00", "00:02:00", "00:04:00", "00:05:00"] if with_time
                                                else [None] * 4)
    _no_timestamp_in_coded_text(doc)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_docx_written_by_libreoffice_bold_names_and_table(tmp_path: Path) -> None:
    """A Word file from another writer than python-docx: LibreOffice converts an HTML transcript."""
    (tmp_path / "t.html").write_text(
        "<html><body><p>Interview (fictief)</p>"
        "<p><b>Interviewer</b></p><p>Wat vond u van de proeftuin?</p>"
        "<p><b>Femke Smit</b></p><p>Leerzaam.</p><p>En soms lastig.</p>"
        "<p><b>Interviewer</b></p><p>Waarom?</p><p><b>Femke Smit</b></p><p>Door de tijdsdruk.</p>"
        "<table border='1'><tr><td>Interviewer</td><td>Nog iets?</td></tr>"
        "<tr><td>Femke Smit</td><td>Nee, dank u.</td></tr></table></body></html>", encoding="utf-8")
    subprocess.run(["soffice", "--headless", "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(tmp_path),
                    str(tmp_path / "t.html")], check=True, capture_output=True, timeout=120,
                   env={**os.environ, "HOME": str(tmp_path)})
    doc = extract_document("t", tmp_path / "t.docx", "transcript")
    assert [t.speaker for t in doc.turns] == ["Interviewer", "Femke Smit", "Interviewer", "Femke Smit",
                                              "Interviewer", "Femke Smit"]
    assert doc.text[doc.turns[1].start:doc.turns[1].end].strip() == "Leerzaam.\n\nEn soms lastig."
    assert doc.text[doc.turns[5].start:doc.turns[5].end] == "Nee, dank u."


# --------------------------------------------------------------------------------------------
# Role labels are not names to pseudonymise; the register takes subtitles
# --------------------------------------------------------------------------------------------

def test_role_labels_are_not_pseudonymised_a_title_stays() -> None:
    doc = extract_document("t", DATA / "role_labels.txt", "transcript").to_dict()
    assert ps.speaker_names(doc["turns"]) == ["Bakker"]
    vocab = ps.build_vocabulary([], [], ps.PseudonymList(), ps.Settings())
    spans = ps.detect(doc["text"], vocab, ps.speaker_names(doc["turns"]))
    replaced = {s.text for s in spans}
    assert "Bakker" in replaced and not any("Moeder" in t or "Dokter" in t for t in replaced)


def test_register_accepts_subtitle_files(tmp_path: Path) -> None:
    _register(tmp_path, [("a", DATA / "teams.vtt"), ("b", DATA / "interview.srt")])
    register = load_register(tmp_path / "corpus")
    assert [d.path.rsplit(".", 1)[1] for d in register.documents] == ["vtt", "srt"]


def test_f4_and_noscribe_timestamps_and_bracketed_codes_stay_out_of_the_text() -> None:
    doc = build_transcript("t", text_paragraphs(
        "#00:00:05-0# I: Wat is uw rol? #00:00:09-2#\n\n[SPEAKER_01]: [00:00:10] Ik coördineer. [00:01:00] "
        "En ik adviseer.\n\nI: Dank u.\n"), "txt")
    assert [(t.speaker, t.role, t.timestamp, t.name) for t in doc.turns] == [
        ("I", "interviewer", "00:00:05", None), ("SPEAKER_01", "respondent", "00:00:10", None),
        ("I", "interviewer", None, None)]
    assert [doc.text[t.start:t.end] for t in doc.turns][:2] == ["Wat is uw rol?", "Ik coördineer. En ik adviseer."]


def test_subtitles_of_another_document_type_need_no_speakers(tmp_path: Path) -> None:
    path = tmp_path / "t.vtt"
    path.write_text("WEBVTT\n\n00:01.000 --> 00:02.000\nWelkom bij de presentatie.\n\n"
                    "00:02.000 --> 00:04.000\nVandaag over de regio.\n", encoding="utf-8")
    doc = extract_document("t", path, "overig")
    assert doc.text == "Welkom bij de presentatie. Vandaag over de regio." and not doc.turns


def test_pseudonymised_turns_keep_no_original_name() -> None:
    doc = extract_document("t", DATA / "teams.vtt", "transcript").to_dict()
    vocab = ps.build_vocabulary([], [], ps.PseudonymList(), ps.Settings(use_deduce=False))
    result = ps.pseudonymise_corpus([doc], {"t": "transcript"}, vocab, ps.Settings(use_deduce=False))
    (out,) = result.documents
    assert "Joris Mulder" not in str(out) and all("name" not in t for t in out["turns"])
    assert {t["speaker"] for t in out["turns"]} == {"[PERSOON-1]", "[PERSOON-2]"}


def test_header_and_text_on_one_line_as_a_pdf_export_has_them() -> None:
    doc = build_transcript("t", ["Interview (fictief)", "Spreker 1 [00:00:05] Wat is uw rol?",
                                 "Spreker 2 [00:00:09] Ik ben docent.", "Spreker 1 (00:00:20) Sinds wanneer?",
                                 "Spreker 2 [00:00:22] - Sinds 2018."], "pdf")
    assert [(t.speaker, t.role, t.timestamp, doc.text[t.start:t.end]) for t in doc.turns] == [
        ("Spreker 1", "interviewer", "00:00:05", "Wat is uw rol?"), ("Spreker 2", "respondent", "00:00:09", "Ik ben docent."),
        ("Spreker 1", "interviewer", "00:00:20", "Sinds wanneer?"), ("Spreker 2", "respondent", "00:00:22", "Sinds 2018.")]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_transcript_printed_to_pdf_by_libreoffice(tmp_path: Path) -> None:
    for name in ("header_brackets.txt", "timestamp_first.txt"):
        shutil.copy(DATA / name, tmp_path / name)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "header_brackets.txt"), str(tmp_path / "timestamp_first.txt")],
                   check=True, capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    for name in ("header_brackets", "timestamp_first"):
        from_pdf = extract_document("t", tmp_path / f"{name}.pdf", "transcript")
        from_txt = extract_document("t", DATA / f"{name}.txt", "transcript")
        assert [(t.speaker, t.role, t.timestamp) for t in from_pdf.turns] == [
            (t.speaker, t.role, t.timestamp) for t in from_txt.turns]
        assert from_pdf.text[from_pdf.turns[0].start:from_pdf.turns[0].end] == (
            from_txt.text[from_txt.turns[0].start:from_txt.turns[0].end])


def test_docx_with_speaker_headers_in_their_own_paragraphs(tmp_path: Path) -> None:
    document = docx.Document()
    for header, text in [("Spreker 1 00:00:05", "Wat is uw rol?"), ("Spreker 2 00:00:09", "Ik ben docent."),
                         ("Spreker 1 00:00:30", "Waar?"), ("Spreker 2 00:00:33", "In Zwolle.")]:
        document.add_paragraph(header)
        document.add_paragraph(text)
    document.save(tmp_path / "t.docx")
    doc = extract_document("t", tmp_path / "t.docx", "transcript")
    assert [(t.speaker, t.role, t.timestamp, doc.text[t.start:t.end].strip()) for t in doc.turns] == [
        ("Spreker 1", "interviewer", "00:00:05", "Wat is uw rol?"), ("Spreker 2", "respondent", "00:00:09", "Ik ben docent."),
        ("Spreker 1", "interviewer", "00:00:30", "Waar?"), ("Spreker 2", "respondent", "00:00:33", "In Zwolle.")]
