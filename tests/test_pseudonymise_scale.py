"""Pseudonymisation takes linear time in the length of a transcript, and long documents show progress.

Time is measured in Python function calls (cProfile's count, deterministic), never in seconds: doubling
the transcript must not much more than double the calls (the quadratic overlap check made it 3.5x).
"""

from __future__ import annotations

import cProfile
import logging
import pstats

import pytest

from kwalitatief import pseudonymise as ps
from kwalitatief.transcripts import build_transcript, text_paragraphs

FIRST = ["Sietske", "Ruurd", "Anneke", "Pieter", "Marloes", "Youssef", "Hanneke", "Bram", "Noor", "Gerrit"]
LAST = ["Hoekstra", "Dijkstra", "Bakker", "van den Berg", "de Groot", "Bennani", "Willemsen", "Oosterbeek"]


def long_text(paragraphs: int) -> str:
    """A transcript with names, e-mail addresses and phone numbers in every answer."""
    parts = []
    for i in range(paragraphs):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 3) % len(LAST)]
        parts.append(f"I: Met wie werkte u samen in jaar {i}?")
        parts.append(f"R: Vooral met {first} {last}, en wethouder {last.split()[-1]} was er ook bij. Mail "
                     f"{first.lower()}.{i}@voorbeeld.nl of bel 06-{10000000 + i}. In het Huis van de Stad.")
    return "\n\n".join(parts) + "\n"


def calls(paragraphs: int, vocab: ps.Vocabulary, settings: ps.Settings) -> int:
    doc = build_transcript("long", text_paragraphs(long_text(paragraphs)), "txt").to_dict()
    profile = cProfile.Profile()
    profile.enable()
    result = ps.pseudonymise_corpus([doc], {"long": "transcript"}, vocab, settings)
    profile.disable()
    assert "Hoekstra" not in result.documents[0]["text"] and "@voorbeeld.nl" not in result.documents[0]["text"]
    return pstats.Stats(profile).total_calls


@pytest.mark.parametrize("use_deduce", [False, True])
def test_doubling_a_transcript_about_doubles_the_work(use_deduce):
    settings = ps.Settings(use_deduce=use_deduce)
    listed = [] if use_deduce else [(f"{first} {last}", "persoon") for first in FIRST for last in LAST]
    vocab = ps.build_vocabulary([], [], ps.PseudonymList(replace=listed, keep=["Huis van de Stad"]), settings)
    calls(50, vocab, settings)   # warm caches (deduce, compiled patterns)
    small, large = calls(600, vocab, settings), calls(1200, vocab, settings)
    assert large / small < 2.5, f"{small} calls for 600 answers, {large} for 1200"


def test_deduce_reads_long_texts_in_chunks_that_end_at_paragraphs():
    text = long_text(400)
    chunks = ps.text_chunks(text, 5_000)
    assert len(chunks) > 10 and chunks[0][0] == 0 and chunks[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    assert all(text[end - 2:end] == "\n\n" for _, end in chunks[:-1])
    # one long line without breaks is cut at spaces, never inside a word
    line = "Jan de Vries " * 2000
    assert all(line[end - 1] == " " for _, end in ps.text_chunks(line, 1_000)[:-1])


def test_a_long_transcript_logs_its_progress(caplog, monkeypatch):
    monkeypatch.setattr(ps, "PROGRESS_FROM", 10_000)
    monkeypatch.setattr(ps, "DEDUCE_CHUNK", 2_000)
    doc = build_transcript("lang_interview", text_paragraphs(long_text(200)), "txt").to_dict()
    settings = ps.Settings()
    with caplog.at_level(logging.INFO, logger="kwalitatief.pseudonymise"):
        ps.pseudonymise_corpus([doc], {"lang_interview": "transcript"}, ps.build_vocabulary([], [], ps.PseudonymList(),
                                                                                          settings), settings)
    lines = [r.getMessage() for r in caplog.records if "detection" in r.getMessage()]
    assert lines[0].startswith("lang_interview: detection 10 %")
    assert lines[-1].startswith("lang_interview: detection 100 %")
    assert 5 <= len(lines) <= 11


def test_a_long_transcript_shared_out_over_workers_gives_the_same_result(caplog, monkeypatch):
    monkeypatch.setattr(ps, "PROGRESS_FROM", 10_000)
    monkeypatch.setattr(ps, "PARALLEL_FROM", 20_000)
    monkeypatch.setattr(ps, "DEDUCE_CHUNK", 2_000)
    doc = build_transcript("lang", text_paragraphs(long_text(300)), "txt").to_dict()
    settings = ps.Settings()
    vocab = ps.build_vocabulary([], [], ps.PseudonymList(), settings)
    one = ps.pseudonymise_corpus([doc], {"lang": "transcript"}, vocab, settings, workers=1)
    with caplog.at_level(logging.INFO, logger="kwalitatief.pseudonymise"):
        two = ps.pseudonymise_corpus([doc], {"lang": "transcript"}, vocab, settings, workers=2)
    assert one.documents == two.documents and one.key == two.key and one.detected == two.detected
    assert "Hoekstra" not in two.documents[0]["text"]
