"""Pseudonymisation: what is replaced, what stays, consistent tags and remapped offsets."""

from __future__ import annotations

import re

import pytest

from kwalitatief import pseudonymise as ps
from kwalitatief.transcripts import build_transcript, text_paragraphs

REGIONS = [
    {"region": "Zwolle", "provinces": "Overijssel; Gelderland", "municipalities": "Zwolle; Kampen; Meppel"},
    {"region": "We the North", "provinces": "Friesland; Groningen", "municipalities": "Leeuwarden; Groningen"},
    {"region": "Stedendriehoek", "provinces": "Gelderland; Overijssel", "municipalities": ""},
    {"region": "geen", "provinces": "", "municipalities": ""},
    {"region": "landelijk", "provinces": "", "municipalities": ""},
]
RESPONDENTS = [
    {"respondent_id": "R1", "respondent_type": "gemeente", "organisation": "gemeente Zwolle", "region": "Zwolle"},
    {"respondent_id": "R2", "respondent_type": "culturele_instelling",
     "organisation": "Productiehuis De Oversteek (fictief)", "region": "Zwolle"},
    {"respondent_id": "R3", "respondent_type": "provincie", "organisation": "provincie Friesland",
     "region": "We the North"},
]


# what the demo study declares: its protected terms (study.yaml) and the respondent types whose
# organisations are replaced (params.yaml)
STUDY_TERMS = ("OCW", "Ministerie van OCW", "BIS", "VNG", "IPO", "Raad voor Cultuur", "RvC")
ORGANISATION_TYPES = ("culturele_instelling", "adviesraad")


def vocabulary(settings: ps.Settings | None = None, replace=(), keep=(), respondents=RESPONDENTS) -> ps.Vocabulary:
    plist = ps.PseudonymList(replace=list(replace), keep=list(keep))
    return ps.build_vocabulary(REGIONS, respondents, plist,
                               settings or ps.Settings(organisation_types=ORGANISATION_TYPES), STUDY_TERMS)


def transcript(doc_id: str, text: str) -> dict:
    return build_transcript(doc_id, text_paragraphs(text), "txt").to_dict()


def run(docs: list[dict], settings: ps.Settings | None = None, **vocab_args) -> ps.CorpusResult:
    settings = settings or ps.Settings(organisation_types=ORGANISATION_TYPES)
    vocab = vocabulary(settings, **vocab_args)
    return ps.pseudonymise_corpus(docs, {d["doc_id"]: "transcript" for d in docs}, vocab, settings)


DOC_A = """I: Hoe verliep het overleg met de gemeente?

R: Wethouder Jan de Vries van Zwolle was enthousiast. Ik heb daarna met Anneke Bakker van de provincie Overijssel gebeld.

Mevrouw Bakker vond het ook goed. Mail haar op a.bakker@overijssel.nl of bel 06-12345678.

I: En de regio?

R: We the North en de Stedendriehoek doen het anders. OCW en het ministerie kijken mee, ook Gelderland en Friesland.
"""

DOC_B = """Interviewer: Kent u Anneke Bakker?

Pieter van den Berg: Ja, Anneke Bakker zit in ons overleg. Ons kantoor is aan de Stationsweg 14, 8011 CZ Zwolle.

Interviewer: Dank u.

Pieter van den Berg: Graag gedaan, bel gerust op +31 6 2345 6789.
"""


@pytest.fixture(scope="module")
def corpus_result() -> tuple[list[dict], ps.CorpusResult]:
    docs = [transcript("int_a", DOC_A), transcript("int_b", DOC_B)]
    return docs, run(docs)


def test_names_contact_data_and_addresses_are_replaced(corpus_result):
    docs, result = corpus_result
    a, b = (d["text"] for d in result.documents)
    for value in ("Jan de Vries", "Anneke Bakker", "Bakker", "a.bakker@overijssel.nl", "06-12345678"):
        assert value not in a
    for value in ("Anneke Bakker", "Pieter van den Berg", "Stationsweg 14", "8011 CZ", "+31 6 2345 6789"):
        assert value not in b
    assert "[EMAIL-1]" in a and "[TELEFOON-1]" in a and "[ADRES-1]" in b and "[POSTCODE-1]" in b


def test_same_person_gets_the_same_tag_across_documents(corpus_result):
    docs, result = corpus_result
    key = result.key
    tags = {row["tag"] for row in key if row["original"] == "Anneke Bakker"}
    assert len(tags) == 1
    tag = tags.pop()
    assert {row["doc_id"] for row in key if row["tag"] == tag and row["original"] == "Anneke Bakker"} == {"int_a", "int_b"}
    assert result.documents[0]["text"].count(tag) >= 1 and result.documents[1]["text"].count(tag) == 2
    # 'Mevrouw Bakker' in the document that names Anneke Bakker is linked to her
    assert f"Mevrouw {tag} vond" in result.documents[0]["text"]
    # different people get different tags, numbered by first occurrence
    jan = next(row["tag"] for row in key if row["original"] == "Jan de Vries")
    assert jan == "[PERSOON-1]" and tag == "[PERSOON-2]"


def test_titles_regions_provinces_and_ministry_stay(corpus_result):
    docs, result = corpus_result
    a = result.documents[0]["text"]
    assert "Wethouder [PERSOON-1] van Zwolle was enthousiast" in a
    assert "provincie Overijssel" in a
    for term in ("We the North", "Stedendriehoek", "OCW", "ministerie", "Gelderland", "Friesland"):
        assert term in a
    assert "8011 CZ]" not in result.documents[1]["text"] and "Zwolle." in result.documents[1]["text"]


def test_speaker_labels_are_replaced_and_turns_carry_the_tag(corpus_result):
    docs, result = corpus_result
    b = result.documents[1]
    tag = next(row["tag"] for row in result.key if row["original"] == "Pieter van den Berg")
    speakers = [t["speaker"] for t in b["turns"]]
    assert speakers == ["Interviewer", tag, "Interviewer", tag]
    assert b["text"].count(f"{tag}:") == 2


def test_offsets_of_blocks_and_turns_are_remapped(corpus_result):
    docs, result = corpus_result
    for original, new in zip(docs, result.documents):
        assert len(new["blocks"]) == len(original["blocks"]) and len(new["turns"]) == len(original["turns"])
        for old_block, new_block in zip(original["blocks"], new["blocks"]):
            old_text = original["text"][old_block["start"]:old_block["end"]]
            new_text = new["text"][new_block["start"]:new_block["end"]]
            # the block reads the same after undoing the replacements inside it
            restored = new_text
            for r in sorted(new["replacements"], key=lambda r: -r["start"]):
                if new_block["start"] <= r["start"] and r["end"] <= new_block["end"]:
                    s, e = r["start"] - new_block["start"], r["end"] - new_block["start"]
                    restored = restored[:s] + original["text"][r["orig_start"]:r["orig_end"]] + restored[e:]
            assert restored == old_text
        for old_turn, new_turn in zip(original["turns"], new["turns"]):
            start, end = ps.original_offsets(new["replacements"], new_turn["start"], new_turn["end"])
            assert (start, end) == (old_turn["start"], old_turn["end"])
        for r in new["replacements"]:
            assert new["text"][r["start"]:r["end"]] == r["tag"]
            assert set(r) == {"start", "end", "tag", "orig_start", "orig_end"}  # no original strings


def test_a_name_inside_a_longer_word_is_not_replaced():
    doc = transcript("int_c", "I: Wie?\n\nR: Jan belde in januari met de Janssen Bakkerij over de "
                              "Jansbuitensingel. Jan-Willem niet, Bakker wel.\n")
    # the list names only (deduce off): 'Jan' and 'Bakker' as whole words, never inside a word
    result = run([doc], ps.Settings(use_deduce=False), replace=[("Jan", "persoon"), ("Bakker", "persoon")])
    text = result.documents[0]["text"]
    assert text.startswith("I: Wie?\n\nR: [PERSOON-1] belde in januari")
    assert text.endswith("niet, [PERSOON-2] wel.")
    for word in ("januari", "Janssen", "Bakkerij", "Jansbuitensingel", "Jan-Willem"):
        assert word in text


def test_the_keep_list_is_honoured():
    text = "I: Waar?\n\nR: In de Johan Cruijff ArenA, zei Johan Cruijff. Kees Hoekstra kwam ook.\n"
    without = run([transcript("int_d", text)]).documents[0]["text"]
    assert "Johan Cruijff ArenA" not in without  # the name is found ...
    kept = run([transcript("int_d", text)], keep=["Johan Cruijff ArenA"]).documents[0]["text"]
    assert "In de Johan Cruijff ArenA, zei [PERSOON-1]." in kept  # ... but the listed venue stays
    assert "Kees Hoekstra" not in kept


def test_list_and_register_names_are_replaced_even_when_unknown_to_deduce():
    respondents = RESPONDENTS + [{"respondent_id": "R4", "respondent_type": "fonds", "organisation": "Fonds X",
                                  "region": "landelijk", "name": "Xylofoon Qwerty"}]
    doc = transcript("int_e", "I: En Zwerbo?\n\nR: Zwerbo en Xylofoon Qwerty waren er niet bij.\n")
    text = run([doc], replace=[("Zwerbo", "persoon")], respondents=respondents).documents[0]["text"]
    assert "Zwerbo" not in text and "Xylofoon Qwerty" not in text


def test_register_organisations_and_municipalities_follow_the_settings():
    doc = transcript("int_f", "I: Waar werkt u?\n\nR: Bij Productiehuis De Oversteek in Kampen, regio Zwolle.\n")
    on = run([doc]).documents[0]["text"]
    assert "Bij [ORGANISATIE-1] in Kampen, regio Zwolle." in on
    off = run([doc], ps.Settings(replace_organisations=False, organisation_types=ORGANISATION_TYPES)).documents[0]["text"]
    assert "Productiehuis De Oversteek" in off
    municipalities = run([doc], ps.Settings(replace_municipalities=True,
                                            organisation_types=ORGANISATION_TYPES)).documents[0]["text"]
    assert "in [GEMEENTE-1], regio Zwolle." in municipalities  # Zwolle is a region name: it stays


def test_documents_of_other_types_pass_unchanged():
    doc = {"doc_id": "profiel", "text": "Wethouder Jan de Vries opende.", "source_type": "pdf",
           "blocks": [{"start": 0, "end": 30, "kind": "paragraph", "page": 1, "turn": None}],
           "turns": [], "pages": [[0, 30, 1]], "n_pages": 1, "encoding": None}
    settings = ps.Settings()
    result = ps.pseudonymise_corpus([doc], {"profiel": "profiel"}, vocabulary(settings), settings)
    assert result.documents == [{**doc, "replacements": []}] and result.key == []


def test_phone_postcode_and_year_patterns():
    text = "Bel 038 498 2211 of (050) 123 45 67. In 2021 EU-geld; in 2022 BIS. Postbus 3434, 5902 RK Venlo."
    kinds = {(s.kind, s.text) for s in ps.detect(text, vocabulary(), use_deduce=False)}
    assert ("telefoon", "038 498 2211") in kinds and ("telefoon", "(050) 123 45 67") in kinds
    assert ("adres", "Postbus 3434") in kinds and ("postcode", "5902 RK") in kinds
    assert not any(kind == "postcode" and value.startswith("202") for kind, value in kinds)


def test_pseudonym_list_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "pseudonyms.csv"
    path.write_text("term,action,kind,note\nJan Jansen,replace,persoon,\nOCW,bewaren,,\n", encoding="utf-8")
    with pytest.raises(ps.PseudonymListError, match=r"pseudonyms.csv line 3, field action: 'bewaren'"):
        ps.load_pseudonym_list(path)
    path.write_text("term,action,kind,note\nJan Jansen,replace,mens,\n", encoding="utf-8")
    with pytest.raises(ps.PseudonymListError, match=r"line 2, field kind: 'mens'"):
        ps.load_pseudonym_list(path)
    path.write_text("term,action,kind,note\nJan Jansen,replace,,\nHuis van de Stad,keep,,town hall\n", encoding="utf-8")
    assert ps.load_pseudonym_list(path) == ps.PseudonymList(replace=[("Jan Jansen", "persoon")],
                                                            keep=["Huis van de Stad"])


def test_unknown_settings_are_an_error():
    with pytest.raises(ValueError, match="unknown setting"):
        ps.Settings.from_params({"doc_type": ["transcript"]})


def test_register_organisations_and_titles_get_the_transcripts_tag():
    from kwalitatief.pseudonymise import Settings, register_labels

    respondents = [
        {"respondent_id": "R4", "respondent_type": "culturele_instelling", "organisation": "Theater X (fictief)"},
        {"respondent_id": "R1", "respondent_type": "gemeente", "organisation": "gemeente Zwolle"},
    ]
    documents = [{"doc_id": "int_r4", "respondent_id": "R4", "title": "Interview Theater X (fictief)"},
                 {"doc_id": "int_r1", "respondent_id": "R1", "title": "Interview gemeente Zwolle"}]
    key = [{"tag": "[ORGANISATIE-2]", "original": "Theater X", "doc_id": "int_r4"}]
    labels = register_labels(respondents, documents, key, Settings(organisation_types=ORGANISATION_TYPES))
    assert labels == {"organisations": {"R4": "[ORGANISATIE-2]"},
                      "titles": {"int_r4": "Interview [ORGANISATIE-2]"}}


def test_standalone_street_word_and_mistyped_phone_number_are_found():
    from kwalitatief.pseudonymise import _contact_spans

    spans = _contact_spans("Post naar Lange Gracht 9, 2312 RA Leiden of bel 0318 680 4412. In 2019 kwamen 1200 mensen.")
    assert [(s.kind, s.text) for s in spans] == [("telefoon", "0318 680 4412"), ("adres", "Lange Gracht 9"),
                                                 ("postcode", "2312 RA")]


def test_a_document_that_fails_is_left_out_and_reported_and_workers_give_the_same_result(monkeypatch):
    """One broken transcript must not lose the others, with 1 or 2 worker processes."""
    real_detect = ps.detect

    def detect(text, *args, **kwargs):
        if "KAPOT" in text:
            raise ValueError("unreadable text")
        return real_detect(text, *args, **kwargs)

    monkeypatch.setattr(ps, "detect", detect)
    docs = [transcript("t1", DOC_A), transcript("t2", "I: Vraag?\n\nR: Dit bestand is KAPOT."),
            transcript("t3", DOC_A.replace("Jan de Vries", "Piet Hendriks"))]
    settings = ps.Settings(use_deduce=False)
    vocab = vocabulary(settings)
    results = [ps.pseudonymise_corpus(docs, {d["doc_id"]: "transcript" for d in docs}, vocab, settings,
                                      workers=w) for w in (1, 2)]
    for result in results:
        assert [d["doc_id"] for d in result.documents] == ["t1", "t3"]
        assert "a.bakker@overijssel.nl" not in result.documents[0]["text"]
        [problem] = result.problems
        assert problem["doc_id"] == "t2" and "unreadable text" in problem["message"]
    assert results[0].documents == results[1].documents and results[0].key == results[1].key


@pytest.mark.parametrize("text", [
    "Jan de Vries belde. Later belde Jan  de\nVries weer, en XJan de Vries of Jan de Vriesland niet.",
    "Jan de Vries-Bakker en jan de vries en Jan de Vries.",
    "Jan Jan de Vries Jan de Vries",
    "",
])
def test_finding_a_name_by_its_first_word_gives_the_regex_scan_result(text):
    # the fast search only tries the pattern where the name's first word occurs; it must find the same
    for term in ("Jan de Vries", "Vries", "de Vries"):
        expected = [m.span() for m in ps.term_pattern(term, ignore_case=False).finditer(text)]
        assert ps._find_term(text, term, ignore_case=False) == expected


def test_a_full_name_found_in_one_document_is_replaced_in_all_others():
    # found in int_a only (as a speaker label); int_b mentions her without a label
    docs = [transcript("int_a", "Interviewer: Met wie spreek ik?\n\nAnnemiek Verschuren: Met mij, van de "
                                "provincie.\n\nInterviewer: Dank u.\n\nAnnemiek Verschuren: Graag gedaan.\n"),
            transcript("int_b", "I: En verder?\n\nR: Annemiek Verschuren zei dat ook, en Annemiek  Verschuren"
                                " schreef het op.\n"),
            transcript("int_c", "I: Iets anders?\n\nR: Nee, verder niemand.\n")]
    result = run(docs, ps.Settings(use_deduce=False))
    texts = {d["doc_id"]: d["text"] for d in result.documents}
    assert "Verschuren" not in texts["int_a"] + texts["int_b"]
    assert texts["int_b"].count("[PERSOON-1]") == 2
    assert texts["int_c"].endswith("R: Nee, verder niemand.")


def test_deduce_loads_without_the_lists_we_do_not_use_and_still_finds_names(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    ps.load_deduce.cache_clear()
    try:
        deduce = ps.load_deduce()
        assert list(tmp_path.glob("kwalitatief/deduce-*/cache/lookup_structs.pickle"))
        assert "street" not in deduce.lookup_structs and "first_name" in deduce.lookup_structs
        text = "Ik sprak met Jan de Vries over de Stationsstraat 5 in Utrecht."
        assert [s.text for s in ps._deduce_persons(text, vocabulary())] == ["Jan de Vries"]
    finally:
        ps.load_deduce.cache_clear()


def test_a_first_name_known_from_another_interview_is_replaced_there_too():
    """A colleague's first name or surname, said alone in an interview where the full name never occurs,
    is replaced there too (the leak guard found these on the scale corpus; it gets a tag of its own, as a
    lone name is linked to a full name only within one document); a part that is a common word is not spread."""
    docs = [transcript("int_a", "I: Wie bent u?\n\nR: Ik ben Rients Hellinga, en mijn collega is Wil Bakker.\n"),
            transcript("int_b", "I: Goedemiddag Rients.\n\nR: Graag. Zoals Hellinga al zei, dat kan beter."
                                "\n\nR: Ik wil nog iets zeggen. Wil je dat noteren?\n")]
    result = run(docs)
    a, b = (d["text"] for d in result.documents)
    assert "Rients" not in b and "Hellinga" not in b
    assert re.search(r"Goedemiddag \[PERSOON-\d+\]\.", b) and re.search(r"Zoals \[PERSOON-\d+\] al zei", b)
    assert "Ik wil nog iets zeggen. Wil je dat noteren?" in b      # 'Wil' (a word) is not spread


def test_the_cached_name_search_redoes_other_documents_exactly_when_the_corpus_names_change(tmp_path):
    """An edit that adds a name found nowhere else redoes the edited document alone; an edit that brings in a
    name another document mentions redoes that document too; either way the result is that of no cache."""
    from kwalitatief.cache import DocumentCache

    settings = ps.Settings(use_deduce=False)
    vocab = vocabulary(settings)
    cache = DocumentCache(tmp_path, "spread")
    a = "Interviewer: Met wie spreek ik?\n\nAnnemiek Verschuren: Met mij.\n\nInterviewer: Dank u.\n\nAnnemiek Verschuren: Graag.\n"
    b = "I: En verder?\n\nR: Gerrit Hoekstra zei dat ook.\n"
    c = "I: Iets anders?\n\nR: Nee, verder niemand.\n"

    def both(texts: dict[str, str]) -> tuple[ps.CorpusResult, tuple[int, int]]:
        docs = [transcript(doc_id, text) for doc_id, text in texts.items()]
        types = {d["doc_id"]: "transcript" for d in docs}
        cache.hits = cache.misses = 0
        cached = ps.pseudonymise_corpus(docs, types, vocab, settings, propagation_cache=cache, cache_salt=["t"])
        assert cached.documents == ps.pseudonymise_corpus(docs, types, vocab, settings).documents
        return cached, (cache.hits, cache.misses)

    assert both({"int_a": a, "int_b": b, "int_c": c})[1] == (0, 3)
    assert both({"int_a": a, "int_b": b, "int_c": c})[1] == (3, 0)
    # int_c gains a remark without a name: only int_c is searched again
    assert both({"int_a": a, "int_b": b, "int_c": c + "\nR: Echt niet.\n"})[1] == (2, 1)
    # int_c now names Gerrit Hoekstra as a speaker: the corpus' names change, int_b and int_a are redone
    # too, and int_b's lone 'Hoekstra' in a later remark is found through the new full name
    b2 = b + "\nR: Hoekstra weet het.\n"
    c2 = "Interviewer: Wie bent u?\n\nGerrit Hoekstra: Van de gemeente.\n\nInterviewer: Dank.\n\nGerrit Hoekstra: Graag.\n"
    result, use = both({"int_a": a, "int_b": b2, "int_c": c2})
    assert use[1] == 3
    texts = {d["doc_id"]: d["text"] for d in result.documents}
    assert "Hoekstra" not in texts["int_b"]


def test_span_as_dict_is_dataclasses_asdict():
    from dataclasses import asdict

    from kwalitatief.pseudonymise import Span

    span = Span(3, 9, "persoon", "Jansen", "deduce", True)
    assert span.as_dict() == asdict(span)
    assert list(span.as_dict()) == list(asdict(span))   # the same key order: cache entries stay the same bytes
