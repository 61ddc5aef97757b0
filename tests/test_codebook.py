"""The codebook: every code of the study is defined; `kwal check` passes on it and names the line of errors."""

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kwalitatief.cli import main
from kwalitatief.codebook import CodebookError, load_codebook
from kwalitatief.codebook_check import check_codebook, codebook_findings

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "codebook" / "codebook.yaml"
STUDY_CODES = {
    "doel.samenwerking_regio", "doel.samenwerking_overheden", "doel.spreiding_middelen", "doel.aan_tafel_rijk",
    "doel.matching", "knelpunt.onduidelijke_doelen", "knelpunt.afstemming", "knelpunt.geldstromen",
    "knelpunt.ongelijke_verdeling", "knelpunt.bureaucratie", "knelpunt.buiten_regio", "knelpunt.status",
    "knelpunt.omvang", "knelpunt.financiering", "knelpunt.tijdsdruk", "knelpunt.kennisdeling",
    "knelpunt.zichtbaarheid", "knelpunt.proeftuin_selectie", "opinie.proeftuin", "opinie.reflectie", "opinie.overleg", "opinie.convenant",
    "opinie.stedelijke_regio", "opinie.herschikking", "opinie.rol_provincie",
}
PARAMS = {"nlp": {"model": "blank:nl+lookup"}}


def copy_codebook(tmp_path: Path) -> Path:
    target = tmp_path / "codebook"
    shutil.copytree(CODEBOOK.parent, target, ignore=shutil.ignore_patterns("annotations", "reviews.jsonl"))
    return target / "codebook.yaml"


def test_codebook_has_exactly_the_study_codes_fully_described():
    codebook = load_codebook(CODEBOOK)
    assert set(codebook.code_ids) == STUDY_CODES
    for code in codebook.codes:
        assert code.definition and code.include and code.exclude and code.rules
        assert len(code.examples) >= 2


def test_check_passes_on_the_codebook():
    assert check_codebook(CODEBOOK, PARAMS) == []


def test_version_changes_with_codebook_or_lexicon(tmp_path):
    path = copy_codebook(tmp_path)
    before = load_codebook(path).version
    lexicon = path.parent / "lexicon" / "valence.tsv"
    lexicon.write_text(lexicon.read_text(encoding="utf-8") + "opwekkend\tpositief\n", encoding="utf-8")
    assert load_codebook(path).version != before


def test_yaml_syntax_error_is_reported_with_its_line(tmp_path):
    path = copy_codebook(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if "id: knelpunt.tijdsdruk" in line)
    lines[index + 1] = lines[index + 1].replace("label:", "label: [unclosed")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check_codebook(path, PARAMS)
    assert len(problems) == 1
    assert f"{path}:{index + 2}" in problems[0] or f"{path}:{index + 3}" in problems[0]
    assert "YAML" in problems[0]


def test_schema_errors_unknown_and_duplicate_ids_name_the_line(tmp_path):
    path = copy_codebook(tmp_path)
    text = path.read_text(encoding="utf-8")
    text = text.replace("      - id: knelpunt.status\n", "      - id: knelpunt.tijdsdruk\n", 1)
    text = text.replace("id: knelpunt.omvang.appels_peren", "id: knelpunt.omvangg.appels_peren", 1)
    path.write_text(text, encoding="utf-8")
    problems = check_codebook(path, PARAMS)
    dup_line = next(i for i, line in enumerate(text.splitlines(), 1) if "id: knelpunt.tijdsdruk" in line
                    and i > text.splitlines().index("      - id: knelpunt.tijdsdruk") + 1)
    assert any("duplicate code id 'knelpunt.tijdsdruk'" in p and f":{dup_line}:" in p for p in problems)
    assert any("unknown code id 'knelpunt.omvangg'" in p for p in problems)


def test_pattern_that_can_never_match_and_missing_lexicon(tmp_path):
    path = copy_codebook(tmp_path)
    data = path.read_text(encoding="utf-8")
    # 'provincies' is always lemmatised to 'provincie', and a capital never occurs in a lemma
    data = data.replace('match: ["speelveld"]', 'match: ["provincies Speelveld"]', 1)
    path.write_text(data, encoding="utf-8")
    problems = check_codebook(path, PARAMS)
    assert any("knelpunt.geldstromen.speelveld" in p and "can never match" in p for p in problems)
    (path.parent / "lexicon" / "valence.tsv").unlink()
    problems = check_codebook(path, PARAMS)
    assert any("valence lexicon" in p and "not found" in p for p in problems)


def test_kwal_check_exits_non_zero_with_the_line(tmp_path, monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "corpus", project / "corpus", ignore=shutil.ignore_patterns("build", "pii_truth"))
    shutil.copy(ROOT / "study.yaml", project / "study.yaml")
    (project / "params.yaml").write_text(yaml.safe_dump({"corpus": {"dir": "corpus",
                                                                   "manifest": "corpus/manifest.csv"},
                                                        **PARAMS}), encoding="utf-8")
    path = copy_codebook(project)
    monkeypatch.chdir(project)
    ok = CliRunner().invoke(main, ["check", "--codebook", str(path)])
    broken = path.parent / "broken.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("categories:"))
    lines.insert(index + 1, "  - id: doel\n   label: wrong indent")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = CliRunner().invoke(main, ["check", "--codebook", str(broken)])
    assert bad.exit_code != 0
    assert f"{broken}:" in bad.output and "YAML" in bad.output
    codebook_errors = [line for line in ok.output.splitlines() if str(path) in line
                       and not line.startswith("warning:")]
    assert codebook_errors == []


SMALL_CODEBOOK = """\
lexicon: valence.tsv
negators: [niet, geen]
cues:
  geldterm:
    - geld|subsidie
categories:
  - id: knelpunt
    label: Knelpunten
    codes:
      - id: knelpunt.geld
        label: Geld
        definition: Te weinig geld.
        include: [Een tekort aan geld.]
        exclude: [Geld zonder knelpunt.]
        examples: [Er is geen geld., Het geld is op.]
        rules:
          - id: knelpunt.geld.tekort
            match:
              - tekort _2 aan
              - MATCH
"""


def small_codebook(tmp_path: Path, match: str) -> tuple[Path, int]:
    """A minimal valid codebook whose second match pattern is ``match``; returns (path, line of it)."""
    folder = tmp_path / "small"
    folder.mkdir(exist_ok=True)
    (folder / "valence.tsv").write_text("goed\tpositief\nslecht\tnegatief\n", encoding="utf-8")
    text = SMALL_CODEBOOK.replace("MATCH", f'"{match}"')
    path = folder / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if match in row)
    return path, line


def test_small_codebook_is_clean(tmp_path):
    path, _ = small_codebook(tmp_path, "tekort|geld")
    assert codebook_findings(path, PARAMS) == ([], [])


def test_rule_syntax_inside_an_alternative_list_is_an_error_with_its_line(tmp_path):
    for match, culprit, hint in [("geld|@geldterm", "@geldterm", "its own pattern"),
                                 ("tekort _3 @geldterm", "@geldterm", "its own pattern"),
                                 ("tekort|_2|geld", "_2", "own token"),
                                 ("tekort|=geld", "=geld", "'='"),
                                 ("de?|het geld", "de?", "'?'")]:
        path, line = small_codebook(tmp_path, match)
        errors, _ = codebook_findings(path, PARAMS)
        assert any(e.startswith(f"{path}:{line}: rule 'knelpunt.geld.tekort'") and f"'{culprit}'" in e
                   and hint in e for e in errors), (match, errors)


def test_dead_alternatives_warn_and_an_all_dead_token_is_an_error(tmp_path):
    # the lemmatiser turns 'provincies' into 'provincie' and 'subsidies' into 'subsidie'
    path, line = small_codebook(tmp_path, "gemeente|provincies")
    errors, warnings = codebook_findings(path, PARAMS)
    assert errors == [] and check_codebook(path, PARAMS) == []
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}:{line}:") and "provincies" in warnings[0]
    assert "gemeente" not in warnings[0].split("alternative(s)")[1]

    path, line = small_codebook(tmp_path, "tekort _2 provincies|subsidies")
    errors, warnings = codebook_findings(path, PARAMS)
    assert any(e.startswith(f"{path}:{line}:") and "can never match" in e and "provincies" in e
               and "subsidies" in e for e in errors), errors


def test_kwal_check_prints_warnings_but_passes(tmp_path, monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "corpus", project / "corpus", ignore=shutil.ignore_patterns("build", "pii_truth"))
    shutil.copy(ROOT / "study.yaml", project / "study.yaml")
    (project / "params.yaml").write_text(yaml.safe_dump({"corpus": {"dir": "corpus",
                                                                   "manifest": "corpus/manifest.csv"},
                                                        **PARAMS}), encoding="utf-8")
    path, line = small_codebook(project, "gemeente|provincies")   # 'provincies' has the lemma 'provincie'
    (project / "claims.yaml").write_text("conclusions: []\n", encoding="utf-8")
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    params["conclusions"] = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["conclusions"]
    (project / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["check", "--codebook", str(path), "--conclusions", "claims.yaml"])
    assert result.exit_code == 0, result.output
    assert f"warning: {path}:{line}:" in result.output and "'provincies' is lemmatised as 'provincie'" in result.output


def test_regex_like_patterns_are_refused_with_the_accepted_syntax(tmp_path):
    """Red-team step: `samenwerk.*` and `^samenwerk\\w+$` passed `kwal check` and never matched."""
    for match, suggestion in [("samenwerk.*", "samenwerk*"), (r"^samenwerk\\w+$", "samenwerk*"),
                              ("(tekort|gebrek) _2 aan", None), ("geld[en]?", None), ("tekort.+", "tekort*")]:
        path, line = small_codebook(tmp_path, match)
        shown = match.replace("\\\\", "\\")
        errors, _ = codebook_findings(path, PARAMS)
        assert any(e.startswith(f"{path}:{line}: rule 'knelpunt.geld.tekort'") and "regular expression" in e
                   and "'samenwerk*' is a lemma starting with" in e for e in errors), (match, errors)
        if suggestion:
            assert any(f"Hint: write '{suggestion}'" in e for e in errors), errors
        assert any(shown.split()[0] in e for e in errors)
    # the code stage loads the codebook the same way, so `kwal run` stops too
    with pytest.raises(CodebookError, match="regular expression"):
        load_codebook(path)


def test_the_accepted_pattern_syntax_is_not_taken_for_a_regex(tmp_path):
    for match in ("samenwerk*", "*beleid", "de|het? geld", "=wel _3 geld", "regio's", "BIS-aanvraag"):
        path, _ = small_codebook(tmp_path, match)
        errors, _ = codebook_findings(path, PARAMS)
        assert not any("regular expression" in e for e in errors), (match, errors)


def test_kwal_check_validates_the_conclusions(tmp_path, monkeypatch):
    """Red-team step: errors in conclusions.yaml were only found by `kwal run`."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "corpus", project / "corpus", ignore=shutil.ignore_patterns("build", "pii_truth"))
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    (project / "params.yaml").write_text(yaml.safe_dump({**params, **PARAMS}, allow_unicode=True), encoding="utf-8")
    path = copy_codebook(project)
    monkeypatch.chdir(project)
    ok = CliRunner().invoke(main, ["check", "--codebook", str(path), "--all-warnings"])
    assert "conclusions: codebook/conclusions.yaml: ok" in ok.output, ok.output
    claims = path.parent / "conclusions.yaml"
    text = claims.read_text(encoding="utf-8")
    text = text.replace("code: knelpunt.onduidelijke_doelen", "code: knelpunt.onduidelijk", 1)
    text = text.replace("quantifier: vrijwel alle", "quantifier: bijna alle", 1)
    text = text.replace("population: alle", "population: {respondent_soort: [gemeente]}", 1)
    claims.write_text(text, encoding="utf-8")
    bad = CliRunner().invoke(main, ["check", "--codebook", str(path)])
    assert bad.exit_code == 1
    errors = [line for line in bad.output.splitlines() if line.startswith("error: codebook/conclusions.yaml:")]
    assert len(errors) == 3, bad.output
    assert "conclusion 'c7-01', field 'code': unknown code 'knelpunt.onduidelijk'" in errors[0]
    assert "field 'quantifier': unknown quantifier 'bijna alle'" in bad.output
    assert "field 'population': 'respondent_soort' does not apply" in bad.output


def test_an_inflected_form_whose_lemma_is_listed_does_not_warn(tmp_path):
    for match in ("provincie|provincies", "afstem*|afgestemd", "gaan|gaat|ging"):
        path, _ = small_codebook(tmp_path, match)
        assert codebook_findings(path, PARAMS) == ([], []), match


def test_an_alternative_list_meant_as_whole_phrases_is_an_error_with_a_hint(tmp_path):
    """'|' binds to one word: 'team|sociaal _1 team' is 'team or sociaal', then a gap, then 'team' --
    a researcher who meant 'team' or 'sociaal _1 team' got a rule that never finds a lone 'team'."""
    for match, phrases in [("tekort|geld _1 tekort", ["'tekort'", "'geld _1 tekort'"]),
                           ("geld _1 tekort|geld _1 tekorten", ["'geld _1 tekort'", "'geld _1 tekorten'"])]:
        path, line = small_codebook(tmp_path, match)
        errors, _ = codebook_findings(path, PARAMS)
        assert any(e.startswith(f"{path}:{line}: rule 'knelpunt.geld.tekort'") and "one word" in e
                   and all(p in e for p in phrases) for e in errors), (match, errors)
    path, _ = small_codebook(tmp_path, "geld _1 tekort|gebrek")      # a real one-word alternative list
    assert codebook_findings(path, PARAMS)[0] == []
