"""The detector on the red team's misses and over-replacements (issue 13, finding 4): lower-case names,
possessives, initials and titles, social media accounts, 'X van het <organisation>', role labels."""

from __future__ import annotations

import pytest
from test_pseudonymise import run, transcript

from kwalitatief import pseudonymise as ps


def pseudonymised(*texts: str, settings: ps.Settings | None = None, **vocab_args) -> list[str]:
    docs = [transcript(f"int_{i}", text) for i, text in enumerate(texts)]
    return [d["text"] for d in run(docs, settings, **vocab_args).documents]


def test_a_name_found_elsewhere_is_replaced_in_lower_case_too():
    first, second = pseudonymised(
        "I: Wie?\n\nR: Jan de Vries van de gemeente, en Anouk Bakker.\n",
        "I: Notulen?\n\nR: Daar staat jan de vries, en anouk bakker belde ook. JAN DE VRIES tekende.\n")
    assert "[PERSOON-1] van de gemeente, en [PERSOON-2]." in first
    assert second.endswith("Daar staat [PERSOON-1], en [PERSOON-2] belde ook. [PERSOON-1] tekende.")


def test_a_lower_case_name_is_only_sought_when_it_is_no_phrase():
    # 'van dam' is a phrase ('van dam tot dijk'): a name whose words are all particles or common words
    assert ps._safe_in_any_case("Anouk Bakker", ps._common_words())
    assert not ps._safe_in_any_case("van Dam", ps._common_words())
    [text] = pseudonymised("I: Waar?\n\nR: Bij Jan van Dam. Het water van dam tot dijk.\n")
    assert "Bij [PERSOON-1]. Het water van dam tot dijk." in text


def test_possessive_s_of_a_known_or_listed_first_name_is_replaced():
    [text] = pseudonymised("I: Wie?\n\nR: Sjoerd Hiemstra en Tsjalling Bouma. Sjoerds idee was goed, Tsjallings "
                           "plan ook. Marieke Postma ook; Marieke's team. Jans mening telde niet.\n")
    for name in ("Sjoerd", "Tsjalling", "Marieke", "Jan"):
        assert name not in text
    assert "[PERSOON-1]s idee" in text and "[PERSOON-2]s plan" in text and "[PERSOON-3]'s team" in text
    assert "Jans" not in text and "mening telde niet" in text


def test_words_that_look_like_possessives_stay():
    [text] = pseudonymised("I: Talen?\n\nR: Ze leert Duits en Engels. Klaas' idee en Kees zijn plan.\n",
                           settings=ps.Settings(use_deduce=False))
    assert "Duits en Engels" in text
    assert ps.name_rules.possessive_spans("Ik sprak Peters collega en Frans docent.") == []


@pytest.mark.parametrize("phrase, name", [
    ("dhr. J.P. van der Sluis", "J.P. van der Sluis"),
    ("mw. A. de Vries-Bakker", "A. de Vries-Bakker"),
    ("drs. H.J. Kooistra", "H.J. Kooistra"),
    ("de heer Van Dijk", "Van Dijk"),
    ("Ing. R. Zijlstra", "R. Zijlstra"),
])
def test_a_surname_after_initials_and_titles_is_replaced_whole(phrase, name):
    [text] = pseudonymised(f"I: Wie?\n\nR: Namens de provincie {phrase}, die het verslag schreef.\n")
    title = phrase[:len(phrase) - len(name)]
    assert f"Namens de provincie {title}[PERSOON-1], die" in text


def test_an_enumeration_is_no_name():
    spans = ps.name_rules.titled_surname_spans("Dan punt B. Daarna plan A. Het was laat. Bijlage C. Zie boven.")
    assert spans == []


def test_social_media_accounts_are_replaced_and_email_stays_email():
    [text] = pseudonymised("I: Online?\n\nR: Ik heet daar @ayse_yilmaz_cultuur, het theater @theater.noord, mijn "
                           "collega linkedin.com/in/dennis-kramer-1980. Mail ayse@cultuurnoord.nl.\n",
                           settings=ps.Settings(use_deduce=False))
    assert text.endswith("Ik heet daar [ACCOUNT-1], het theater [ACCOUNT-2], mijn collega [ACCOUNT-3]. Mail [EMAIL-1].")


def test_a_name_joined_to_an_organisation_is_cut_before_van():
    [text] = pseudonymised("I: Wie?\n\nR: Sjoerd Hiemstra van het Friese Museum. Daar was ook Hiemstra van het "
                           "Friese Museum, en mevrouw Verhage van Middelburg.\n")
    assert "[PERSOON-1] van het Friese Museum. Daar was ook [PERSOON-1] van het Friese Museum," in text
    assert "mevrouw [PERSOON-2] van Middelburg" in text


@pytest.mark.parametrize("name", ["Jelle van der Meer", "Kees van Oosterwijk", "Anouk van het Hof"])
def test_surnames_with_particles_stay_whole(name):
    [text] = pseudonymised(f"I: Wie?\n\nR: Ik sprak {name} gisteren, en {name} belde terug.\n")
    assert "Ik sprak [PERSOON-1] gisteren, en [PERSOON-1] belde terug." in text


def test_role_labels_are_no_names_but_name_labels_are():
    docs = [transcript("int_a", "Moeder: Ja, dat klopt.\n\nInterviewer: En vader?\n\nMoeder: Die werkt.\n"),
            transcript("int_b", "Marieke Dijkstra: Ja, dat klopt.\n\nInterviewer: En verder?\n\n"
                                "Marieke Dijkstra: Niets.\n")]
    role, name = run(docs).documents
    assert role["text"].startswith("Moeder: Ja, dat klopt.") and "Moeder: Die werkt." in role["text"]
    assert [t["speaker"] for t in role["turns"]] == ["Moeder", "Interviewer", "Moeder"]
    assert [t["speaker"] for t in name["turns"]] == ["[PERSOON-1]", "Interviewer", "[PERSOON-1]"]
    assert ps.name_rules.is_role_word("Vader") and not ps.name_rules.is_role_word("Marieke")


def test_phone_numbers_with_a_spaced_hyphen_and_abbreviated_or_frisian_streets():
    from kwalitatief.pseudonymise import _contact_spans

    spans = _contact_spans("Post naar Tsjerkestrjitte 8 of de Kerkstr 12, bel 058 - 2123456 of 020 – 6241234 niet.")
    assert [(s.kind, s.text) for s in spans if s.kind != "postcode"] == [
        ("telefoon", "058 - 2123456"), ("telefoon", "020 – 6241234"), ("adres", "Tsjerkestrjitte 8"),
        ("adres", "Kerkstr 12")]


def test_many_initials_stay_with_their_surname():
    [text] = pseudonymised("I: Wie tekende?\n\nR: Dat deed A.B.C.D.E.F. Visser, en drs. A.Th. van der Laan.\n")
    assert "Dat deed [PERSOON-1], en drs. [PERSOON-2]." in text


@pytest.mark.parametrize("text", [
    "JAN DE VRIES belde, jan de vries ook; XJan de Vries en Jan de Vriesland niet. Jan  de\nVries wel.",
    "Jan Jan de Vries Jan de Vries, en 't Hoen of 't  hoen, en Ten Brink-ten brink.",
    "",
])
@pytest.mark.parametrize("ignore_case", [True, False])
def test_looking_only_where_the_first_word_occurs_finds_what_a_full_scan_finds(text, ignore_case):
    for term in ("Jan de Vries", "Vries", "'t Hoen", "Ten Brink", "brink"):
        expected = [m.span() for m in ps.term_pattern(term, ignore_case).finditer(text)]
        assert ps._find_term(text, term, ignore_case) == expected


def test_a_surname_that_is_a_protected_place_is_replaced_with_its_given_name():
    # 'Frits van Wageningen' left 'van Wageningen' in clear when Wageningen was a protected place
    [text] = pseudonymised("I: Wie?\n\nR: Ik ben Frits van Kampen, directeur. Pieter van Zwolle belde ook.\n"
                           "De wethouder van Kampen was er, en Anna van Zwolle Cultuur. Jan Bakker van Meppel.\n")
    assert "Ik ben [PERSOON-1], directeur. [PERSOON-2] belde ook." in text
    assert "Kampen, directeur" not in text and "Zwolle belde" not in text
    # a place after a function word, an organisation named after the place, a full name 'of' a place: kept
    assert "De wethouder van Kampen was er" in text
    assert "van Zwolle Cultuur" in text
    assert "[PERSOON-4] van Meppel." in text


def test_a_common_word_opening_the_sentence_is_no_part_of_the_name():
    [text] = pseudonymised("I: En toen?\n\nR: Toen Marieke Postma belde, was het rond. Dus Anouk wist het. "
                           "Wethouder Ter Horst ook.\n")
    assert "Toen [PERSOON-1] belde" in text and "Dus [PERSOON-2] wist" in text
    assert "Wethouder [PERSOON-3] ook." in text


def test_a_surname_with_particles_as_form_of_address_is_found_in_other_interviews():
    # the scale corpus: 'meneer Van Wageningen' in an interview where the full name never occurs
    first, second = pseudonymised("I: Wie bent u?\n\nR: Ik ben Frits van Kampen, directeur.\n",
                                  "I: Goedemorgen meneer Van Kampen. Hoe gaat het?\n\nR: Goed. De wethouder van "
                                  "Kampen belde.\n")
    assert "Ik ben [PERSOON-1], directeur." in first
    assert "Van Kampen" not in second and "Goedemorgen meneer [PERSOON-" in second   # (a tag of its own there)
    assert "De wethouder van Kampen belde." in second
