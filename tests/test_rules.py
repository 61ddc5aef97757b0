"""Rule coding: negation, valence, multi-word and word-order variants, exclusion, evidence offsets."""

import shutil
from pathlib import Path

import pytest

from kwalitatief.codebook import load_codebook
from kwalitatief.coding import code_texts
from kwalitatief.nlp import load_nlp

CODEBOOK = Path(__file__).resolve().parents[1] / "codebook" / "codebook.yaml"


@pytest.fixture(scope="module")
def coder():
    codebook = load_codebook(CODEBOOK)
    nlp = load_nlp("blank:nl+lookup")

    def code(text: str) -> dict[str, dict]:
        return {row["code"]: row for row in code_texts([text], codebook, nlp)[0]}

    return code


def test_negated_goal_cue_does_not_fire(coder):
    assert "doel.samenwerking_regio" in coder("Ons doel is dat de podia in de regio beter gaan samenwerken.")
    assert "doel.samenwerking_regio" not in coder("Het is niet de bedoeling dat de podia gaan samenwerken.")
    assert "doel.samenwerking_regio" not in coder("We willen geen samenwerking met de podia.")


def test_negated_problem_cue_does_not_make_a_knelpunt(coder):
    assert "knelpunt.afstemming" in coder("De afstemming met de provincie is een groot probleem.")
    assert "knelpunt.afstemming" not in coder("De afstemming met de provincie is geen probleem.")


@pytest.mark.parametrize("solved, unsolved", [
    ("De afstemming met de provincie was een groot probleem, maar dat is inmiddels opgelost.",
     "De afstemming met de provincie is een groot probleem en dat is nog steeds niet opgelost."),
    ("Die geldstromen waren niet op elkaar afgestemd; dat hebben we vorig jaar rechtgezet.",
     "Die geldstromen zijn niet op elkaar afgestemd."),
    ("Dat de subsidieregelingen van rijk en provincie langs elkaar heen liepen, is verleden tijd.",
     "De subsidieregelingen van rijk en provincie lopen langs elkaar heen."),
])
def test_a_solved_problem_is_no_knelpunt_but_an_unsolved_one_is(coder, solved, unsolved):
    """The knelpunt rules have ``without: ["@verholpen"]``; a negated ``without`` cue (``niet opgelost``)
    does not block, whatever the rule's ``negation`` setting."""
    knelpunt = lambda codes: {c for c in codes if c.startswith("knelpunt.")}  # noqa: E731
    assert knelpunt(coder(unsolved)), unsolved
    assert not knelpunt(coder(solved)), (solved, coder(solved))


def test_a_negated_without_pattern_does_not_block(tmp_path):
    book = tmp_path / "codebook.yaml"
    book.write_text("""negators: [niet, geen]
categories:
  - id: knelpunt
    label: Knelpunten
    valence: false
    codes:
      - id: knelpunt.tijd
        label: Tijdsdruk
        definition: Te weinig tijd.
        include: [De spreker noemt tijdsdruk.]
        exclude: [Tijd als bijzaak.]
        examples: ["Alles moest te snel.", "De tijd was te kort."]
        rules:
          - id: knelpunt.tijd.krap
            match: ["krap|haast"]
            without: ["=opgelost|verholpen"]
          - id: knelpunt.tijd.deadline
            match: ["deadline"]
            without: ["=opgelost|verholpen"]
            negation: ignore
""", encoding="utf-8")
    codebook = load_codebook(book)
    nlp = load_nlp("blank:nl+lookup")
    coded = lambda text: {r["code"] for r in code_texts([text], codebook, nlp)[0]}  # noqa: E731
    assert coded("De planning was krap.") == {"knelpunt.tijd"}
    assert coded("De planning was krap, maar dat is verholpen.") == set()
    assert coded("De planning was krap en dat is niet verholpen.") == {"knelpunt.tijd"}
    assert coded("De deadline is niet verholpen.") == {"knelpunt.tijd"}, "negation: ignore is about match and with"
    assert coded("De deadline is verholpen.") == set()


def test_word_order_and_multiword_variants(coder):
    for text in ("Wij willen dat de instellingen in het gebied meer samenwerken.",
                 "Wij willen dat de instellingen in het gebied beter samen gaan werken.",
                 "Het doel is dat de instellingen in het gebied werken samen aan talent.",
                 "Het gaat ons om samenwerking tussen de podia in het gebied."):
        assert "doel.samenwerking_regio" in coder(text), text
    assert "knelpunt.buiten_regio" in coder("Wij vallen echt tussen wal en schip.")
    assert "knelpunt.geldstromen" in coder("Die geldstromen zijn niet op elkaar afgestemd.")
    assert "knelpunt.geldstromen" in coder("De subsidieregelingen van rijk en provincie lopen langs elkaar heen.")


def test_valence_positive_negative_and_mixed(coder):
    assert coder("De proeftuin was heel waardevol en gaf veel energie.")["opinie.proeftuin"]["valence"] == "positief"
    assert coder("Die proeftuin vond ik rommelig en kunstmatig.")["opinie.proeftuin"]["valence"] == "negatief"
    assert coder("De proeftuin was waardevol, maar ook rommelig.")["opinie.proeftuin"]["valence"] == "gemengd"


def test_negation_flips_valence_but_not_across_maar(coder):
    assert coder("De proeftuin was niet waardevol.")["opinie.proeftuin"]["valence"] == "negatief"
    assert coder("Het convenant was helemaal niet slecht.")["opinie.convenant"]["valence"] == "positief"
    # the negator before 'maar' does not reach the evaluation after it
    row = coder("De proeftuin kostte niet veel, maar hij was waardevol.")["opinie.proeftuin"]
    assert row["valence"] == "positief"


def test_topic_without_evaluation_is_no_opinie(coder):
    assert "opinie.proeftuin" not in coder("De proeftuin liep van 2019 tot 2021 in drie gemeenten.")


def test_exclusion_keeps_the_randstad_out_of_buiten_regio(coder):
    assert "knelpunt.buiten_regio" in coder("Gemeenten buiten de stedelijke regio's missen alle informatie.")
    assert "knelpunt.buiten_regio" not in coder("Er zijn weinig BIS-instellingen buiten de Randstad.")


def test_each_coding_records_rule_and_evidence_span(coder):
    text = "Eerlijk gezegd: die geldstromen zijn niet op elkaar afgestemd."
    row = coder(text)["knelpunt.geldstromen"]
    assert row["source"] == "rule"
    assert row["rule_id"].startswith("knelpunt.geldstromen.")
    assert text[row["start"]:row["end"]].startswith("geldstromen")
    assert "niet op elkaar" in text[row["start"]:row["end"]]
    assert row["score"] is None and row["valence"] is None


def test_the_question_before_an_answer_gives_the_topic_of_its_opinion():
    codebook, nlp = load_codebook(CODEBOOK), load_nlp("blank:nl+lookup")
    question = "Hoe kijkt u terug op de proeftuin?"
    answers = ["Heel waardevol, het gaf veel energie.",            # names no topic: the question's
               "Dat weet ik niet meer precies.",                    # no evaluation: no opinion
               "Het convenant vond ik rommelig.",                   # names its own topic
               "Heel waardevol. Het convenant vond ik rommelig."]   # the question's topic until it names one
    with_question = code_texts(answers, codebook, nlp, contexts=[question] * len(answers))
    coded = [{r["code"]: (r["valence"], r["rule_id"].endswith("@context")) for r in rows} for rows in with_question]
    assert coded == [{"opinie.proeftuin": ("positief", True)},
                     {},
                     {"opinie.convenant": ("negatief", False)},
                     {"opinie.proeftuin": ("positief", True), "opinie.convenant": ("negatief", False)}]
    alone = [{r["code"]: r["valence"] for r in rows} for rows in code_texts(answers, codebook, nlp)]
    assert alone == [{}, {}, {"opinie.convenant": "negatief"}, {"opinie.convenant": "gemengd"}]


def test_evidence_keeps_the_words_of_the_fragment(coder):
    text = "Het convenant was  niet\nwaardevol, helaas."
    row = coder(text)["opinie.convenant"]
    assert row["evidence"] == "convenant … niet\nwaardevol (-) … helaas (-)"
    assert text[row["start"]:row["end"]] == "convenant was  niet\nwaardevol, helaas"


def test_raw_spacy_patterns_are_matched_too(tmp_path):
    shutil.copytree(CODEBOOK.parent, tmp_path / "codebook", ignore=shutil.ignore_patterns("annotations"))
    path = tmp_path / "codebook" / "codebook.yaml"
    topic = 'match: ["proeftuin|proeftuinen|*proeftuin|*proeftuinen|proeftuin*"]'
    raw = '[{"LOWER": "experiment"}, {"IS_ALPHA": true, "OP": "+"}, {"LOWER": "regio"}]'
    assert topic in path.read_text(encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8").replace(topic, topic[:-1] + ", " + raw + "]"), encoding="utf-8")
    codebook, nlp = load_codebook(path), load_nlp("blank:nl+lookup")
    rows = code_texts(["Het experiment in de regio was waardevol."], codebook, nlp)[0]
    assert [(r["code"], r["valence"], r["evidence"]) for r in rows] == [
        ("opinie.proeftuin", "positief", "experiment in de regio … waardevol (+)")]


@pytest.mark.parametrize("text, valence", [
    ("De provincie dacht niet mee, wat ik eerlijk gezegd zwak vond.", "negatief"),      # negation: ignore
    ("Het provinciebestuur hield de boot af, wat ik teleurstellend vond.", "negatief"),  # provincie*
    ("Gedeputeerde Staten stelden zich erg terughoudend op.", "negatief"),              # role word + lexicon
    ("De provincie maakt zich sterk voor de kleine gemeenten, en dat waardeer ik.", "positief"),
    ("De provincie is voor ons een onmisbare gesprekspartner.", "positief"),
])
def test_an_oordeel_about_the_provincies_role_in_other_words(coder, text, valence):
    """The rol_provincie topic: the provincie and its bodies (provincie*, gedeputeerde*), its role in
    everyday words, and a negated role word (``dacht niet mee``) is still an oordeel about that role."""
    assert coder(text)["opinie.rol_provincie"]["valence"] == valence, coder(text)


def test_the_provincie_named_without_an_oordeel_is_no_rol_provincie(coder):
    assert "opinie.rol_provincie" not in coder("De provincie stelde een regioprofiel op.")
    assert "opinie.rol_provincie" not in coder("Het convenant met de provincie vond ik teleurstellend.")


@pytest.mark.parametrize("text", [
    "De subsidieregelingen van rijk en gemeenten staan los van elkaar.",
    "Elke geldgever hanteert zijn eigen aanvraagrondes en tijdpad.",
    "Bij de fondsen en de gemeente is het ieder voor zich met hun budgetten.",
    "De budgetten van provincie en rijk lopen niet synchroon.",
])
def test_geldstromen_that_do_not_fit_in_everyday_words(coder, text):
    """The @nietafgestemd family: each on its own, apart, not in step -- with a money term it is
    knelpunt.geldstromen; without one it is not."""
    assert "knelpunt.geldstromen" in coder(text), coder(text)


def test_working_apart_without_money_is_no_geldstromen(coder):
    assert "knelpunt.geldstromen" not in coder("De samenwerking tussen de instellingen loopt los van elkaar.")
    assert "knelpunt.geldstromen" not in coder(
        "De subsidieregelingen van rijk en gemeenten stonden los van elkaar, maar dat is inmiddels rechtgezet.")
