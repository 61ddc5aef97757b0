"""REFI-QDA exchange: the .qdpx export follows the standard, and export then import gives the codings back."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from review_factory import make_review_project

from kwalitatief.codebook import load_codebook
from kwalitatief.jsonio import read_jsonl
from kwalitatief.qda import NS_CODEBOOK, NS_PROJECT, QdaError, codebook_xml, export_qdpx, read_project
from kwalitatief.qda_import import import_qdpx
from kwalitatief.review import append_decision, make_decision

XSD = Path(__file__).parent / "data" / "refi_qda_project_subset.xsd"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
Q = "{" + NS_PROJECT + "}"


def _frag(project, seq, doc="int_a"):
    return next(f for f in project["fragments"] if f["doc_id"] == doc and f["seq"] == seq)


def _reviewed_project(root: Path) -> dict:
    project = make_review_project(root, build_db=False)
    path = root / "codebook/reviews.jsonl"
    append_decision(path, make_decision("anna", _frag(project, 1), "opinie.proeftuin", "change_valence", "gemengd",
                                        memo="positief én kritisch", has_valence=True))
    append_decision(path, make_decision("anna", _frag(project, 2), "knelpunt.tijdsdruk", "accept", has_valence=False))
    append_decision(path, make_decision("bram", _frag(project, 3), "doel.samenwerking_regio", "reject", has_valence=False))
    append_decision(path, make_decision("bram", _frag(project, 0, "int_b"), "knelpunt.status", "add", has_valence=False))
    return project


def test_export_follows_the_refi_qda_schema_element_by_element(tmp_path):
    project = _reviewed_project(tmp_path)
    out = tmp_path / "study.qdpx"
    counts = export_qdpx(out, tmp_path)
    assert counts["selections"] == 3 and counts["codings"] == 3   # reviewed codings only
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        xml = zf.read("project.qde")
    assert names[0] == "project.qde" and all(n == "project.qde" or n.startswith("sources/") for n in names)
    root = read_project(out)
    assert root.tag == Q + "Project" and root.get("name")
    assert [c.tag for c in root] == [Q + "Users", Q + "CodeBook", Q + "Sources"]   # the schema's order
    users = {u.get("name"): u.get("guid") for u in root.iter(Q + "User")}
    assert set(users) == {"kwalitatief (machine)", "anna", "bram"}
    guids = [e.get("guid") for e in root.iter() if e.get("guid")]
    assert all(GUID.match(g) for g in guids) and len(guids) == len(set(guids))
    codes = list(root.iter(Q + "Code"))
    assert all(c.get("isCodable") in ("true", "false") and re.match(r"^#[0-9a-f]{6}$", c.get("color")) for c in codes)
    top = root.find(f"{Q}CodeBook/{Q}Codes")
    assert [c.get("name") for c in top] == ["doel", "knelpunt", "opinie"]
    assert all(c.get("isCodable") == "false" for c in top)   # categories group the codes
    proeftuin = next(c for c in codes if c.get("name") == "opinie.proeftuin")
    assert [c.get("name") for c in proeftuin.findall(Q + "Code")] == [
        "opinie.proeftuin · positief", "opinie.proeftuin · negatief", "opinie.proeftuin · gemengd"]
    names = [c.get("name") for c in codes]
    assert len(names) == len(set(names))   # unique over the whole codebook (QualCoder: unique(name))
    code_guids = {c.get("guid") for c in codes}
    sources = list(root.iter(Q + "TextSource"))
    assert [s.get("name") for s in sources] == ["int_a", "int_b"]
    for src in sources:
        path = src.get("plainTextPath")
        assert path.startswith("internal://")
        with zipfile.ZipFile(out) as zf:
            text = zf.read("sources/" + path[len("internal://"):]).decode("utf-8")
        assert text == project["texts"][src.get("name")]   # the pseudonymised text
        assert [c.tag for c in src][0] == Q + "Description"
        for sel in src.findall(Q + "PlainTextSelection"):
            s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
            frag = next(f for f in project["fragments"] if f["fragment_id"] == sel.get("name"))
            assert text[s:e] == frag["text"]
            codings = sel.findall(Q + "Coding")
            assert codings and all(c.find(Q + "CodeRef").get("targetGUID") in code_guids for c in codings)
            assert all(c.get("creatingUser") in users.values() for c in codings)
    # the valence change is exported as the gemengd child of opinie.proeftuin, with the memo
    gemengd = next(c for c in proeftuin.findall(Q + "Code") if c.get("name").endswith("gemengd")).get("guid")
    assert gemengd in xml.decode("utf-8") and "positief én kritisch" in xml.decode("utf-8")
    assert b"deadline was veel te krap" not in xml   # texts live in the sources, not in the XML


def test_export_validates_against_the_schema(tmp_path):
    etree = pytest.importorskip("lxml.etree", reason="lxml is needed for XSD validation")
    _reviewed_project(tmp_path)
    export_qdpx(tmp_path / "a.qdpx", tmp_path, include_unreviewed=True)
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    with zipfile.ZipFile(tmp_path / "a.qdpx") as zf:
        doc = etree.fromstring(zf.read("project.qde"))
    assert schema.validate(doc), schema.error_log


def test_unreviewed_codings_only_on_request_and_the_export_is_reproducible(tmp_path):
    _reviewed_project(tmp_path)
    export_qdpx(tmp_path / "a.qdpx", tmp_path)
    export_qdpx(tmp_path / "b.qdpx", tmp_path)
    assert (tmp_path / "a.qdpx").read_bytes() == (tmp_path / "b.qdpx").read_bytes()
    counts = export_qdpx(tmp_path / "c.qdpx", tmp_path, include_unreviewed=True)
    # + opinie.proeftuin and knelpunt.tijdsdruk of int_b (unreviewed); the rejected coding stays out
    assert counts["codings"] == 5
    names = [s.get("name") for s in read_project(tmp_path / "c.qdpx").iter(Q + "PlainTextSelection")]
    assert _frag_id(tmp_path, 3) not in names


def _frag_id(root, seq):
    rows = list(read_jsonl(root / "outputs/work/fragments"))
    return next(r["fragment_id"] for r in rows if r["doc_id"] == "int_a" and r["seq"] == seq)


def test_codebook_export_qdc(tmp_path):
    from xml.etree import ElementTree as ET

    from kwalitatief.qda import export_qdc

    make_review_project(tmp_path, build_db=False)
    codebook = load_codebook(tmp_path / "codebook/codebook.yaml")
    assert export_qdc(tmp_path / "c.qdc", codebook) == len(codebook.codes)
    root_el = ET.parse(tmp_path / "c.qdc").getroot()
    assert root_el.tag == "{%s}CodeBook" % NS_CODEBOOK
    codes = root_el.find("{%s}Codes" % NS_CODEBOOK)
    leaf = [c.get("name") for c in codes.iter("{%s}Code" % NS_CODEBOOK) if c.get("isCodable") == "true"]
    assert set(codebook.code_ids) <= set(leaf)
    assert "De regio heeft geen formele status" in (tmp_path / "c.qdc").read_text(encoding="utf-8")


def test_export_then_import_gives_the_reviewed_codings_back_as_annotations(tmp_path):
    project = _reviewed_project(tmp_path)
    export_qdpx(tmp_path / "study.qdpx", tmp_path)
    result = import_qdpx(tmp_path / "study.qdpx", tmp_path, name="roundtrip")
    assert result.path == tmp_path / "codebook/annotations/imported_roundtrip.jsonl"
    assert result.problems == [] and len(result.matched_sources) == 2
    lines = [json.loads(x) for x in result.path.read_text(encoding="utf-8").splitlines()]
    got = {(r["doc_id"], r["text"], r["coder"], c["code"], c.get("valence")) for r in lines for c in r["codes"]}
    assert got == {
        ("int_a", _frag(project, 1)["text"], "anna", "opinie.proeftuin", "gemengd"),
        ("int_a", _frag(project, 2)["text"], "anna", "knelpunt.tijdsdruk", None),
        ("int_b", _frag(project, 0, "int_b")["text"], "bram", "knelpunt.status", None),
    }
    # the annotations are training data the classifier can read and match
    from kwalitatief.classifier.annotations import load_annotations

    annotations, problems = load_annotations(tmp_path / "codebook/annotations", load_codebook(
        tmp_path / "codebook/codebook.yaml").code_ids)
    assert problems == [] and len(annotations) == 3
    # an existing file is never overwritten
    with pytest.raises(QdaError, match="never overwritten"):
        import_qdpx(tmp_path / "study.qdpx", tmp_path, name="roundtrip")


def test_import_matches_sources_by_text_and_reports_the_rest(tmp_path):
    """A project of another tool: whitespace differs, one unknown source, one unknown code."""
    project = make_review_project(tmp_path, build_db=False)
    text = project["texts"]["int_a"].replace("\n\n", "\r\n")   # another tool's line ends
    frag = _frag(project, 2)
    start = text.index("De deadline")
    from xml.etree import ElementTree as ET

    ET.register_namespace("", NS_PROJECT)
    g = iter(f"00000000-0000-0000-0000-{i:012d}" for i in range(1, 100))
    proj = ET.Element(Q + "Project", {"name": "ander"})
    users = ET.SubElement(proj, Q + "Users")
    ET.SubElement(users, Q + "User", {"guid": (ug := next(g)), "name": "Carla"})
    codes = ET.SubElement(ET.SubElement(proj, Q + "CodeBook"), Q + "Codes")
    ET.SubElement(codes, Q + "Code", {"guid": (c1 := next(g)), "name": "Tijdsdruk", "isCodable": "true"})
    ET.SubElement(codes, Q + "Code", {"guid": (c2 := next(g)), "name": "Iets anders", "isCodable": "true"})
    sources = ET.SubElement(proj, Q + "Sources")
    src = ET.SubElement(sources, Q + "TextSource", {"guid": next(g), "name": "interview A.docx",
                                                    "plainTextPath": "internal://a.txt"})
    sel = ET.SubElement(src, Q + "PlainTextSelection", {"guid": next(g), "startPosition": str(start + 3),
                                                        "endPosition": str(start + 30)})
    for code in (c1, c2):
        coding = ET.SubElement(sel, Q + "Coding", {"guid": next(g), "creatingUser": ug})
        ET.SubElement(coding, Q + "CodeRef", {"targetGUID": code})
    ET.SubElement(sources, Q + "TextSource", {"guid": next(g), "name": "elders.txt",
                                              "plainTextPath": "internal://b.txt"})
    with zipfile.ZipFile(tmp_path / "ander.qdpx", "w") as zf:
        zf.writestr("project.qde", ET.tostring(proj, encoding="utf-8", xml_declaration=True))
        zf.writestr("sources/a.txt", text.encode("utf-8"))
        zf.writestr("sources/b.txt", "Een heel andere tekst.".encode("utf-8"))
    result = import_qdpx(tmp_path / "ander.qdpx", tmp_path)
    assert result.matched_sources == ["interview A.docx -> int_a"]
    assert any("elders.txt" in p and "matches no corpus document" in p for p in result.problems)
    assert any("Iets anders" in p for p in result.problems)
    lines = [json.loads(x) for x in result.path.read_text(encoding="utf-8").splitlines()]
    assert lines == [{"doc_id": "int_a", "text": frag["text"], "coder": "Carla",
                      "codes": [{"code": "knelpunt.tijdsdruk"}]}]


# ------------------------------------------------------------------ reviewers, machine codings, positions

def test_each_reviewer_is_a_user_with_their_own_codings(tmp_path):
    """A coding decided by two reviewers appears once per reviewer, each with their own valence."""
    project = make_review_project(tmp_path, build_db=False)
    path = tmp_path / "codebook/reviews.jsonl"
    frag = _frag(project, 1)
    append_decision(path, make_decision("anna", frag, "opinie.proeftuin", "accept", time="2026-01-01T10:00:00Z", has_valence=True))
    append_decision(path, make_decision("bram", frag, "opinie.proeftuin", "change_valence", "gemengd",
                                        memo="ook kritisch", time="2026-01-02T10:00:00Z", has_valence=True))
    append_decision(path, make_decision("bram", _frag(project, 2), "knelpunt.tijdsdruk", "reject",
                                        time="2026-01-02T11:00:00Z", has_valence=False))
    append_decision(path, make_decision("anna", _frag(project, 2), "knelpunt.tijdsdruk", "accept",
                                        time="2026-01-01T11:00:00Z", has_valence=False))
    counts = export_qdpx(tmp_path / "r.qdpx", tmp_path)
    root = read_project(tmp_path / "r.qdpx")
    users = {u.get("guid"): u.get("name") for u in root.iter(Q + "User")}
    code_names = {c.get("guid"): c.get("name") for c in root.iter(Q + "Code")}
    got = sorted((s.get("name"), users[s.get("creatingUser")], code_names[c.find(Q + "CodeRef").get("targetGUID")])
                 for s in root.iter(Q + "PlainTextSelection") for c in s.findall(Q + "Coding"))
    assert got == sorted([(frag["fragment_id"], "anna", "opinie.proeftuin · positief"),
                          (frag["fragment_id"], "bram", "opinie.proeftuin · gemengd"),
                          (_frag(project, 2)["fragment_id"], "anna", "knelpunt.tijdsdruk")])
    assert counts["codings"] == 3 and counts["users"] == 3
    # re-import: both reviewers come back as coders with their own valence (bram's rejection stays out)
    result = import_qdpx(tmp_path / "r.qdpx", tmp_path, name="r")
    lines = [json.loads(x) for x in result.path.read_text(encoding="utf-8").splitlines()]
    assert sorted((r["coder"], c["code"], c.get("valence")) for r in lines for c in r["codes"]) == [
        ("anna", "knelpunt.tijdsdruk", None), ("anna", "opinie.proeftuin", "positief"),
        ("bram", "opinie.proeftuin", "gemengd")]


def test_machine_proposals_are_marked_and_not_reimported_as_training_data(tmp_path):
    _reviewed_project(tmp_path)
    counts = export_qdpx(tmp_path / "all.qdpx", tmp_path, include_unreviewed=True)
    root = read_project(tmp_path / "all.qdpx")
    machine = next(u.get("guid") for u in root.iter(Q + "User") if u.get("name") == "kwalitatief (machine)")
    by_machine = [s for s in root.iter(Q + "PlainTextSelection") if s.get("creatingUser") == machine]
    assert len(by_machine) == 2 and all("niet beoordeeld" in s.find(Q + "Description").text for s in by_machine)
    result = import_qdpx(tmp_path / "all.qdpx", tmp_path, name="own")
    coders = {json.loads(x)["coder"] for x in result.path.read_text(encoding="utf-8").splitlines()}
    assert coders == {"anna", "bram"} and result.n_machine_skipped == 2
    assert any("--include-machine" in p for p in result.problems)
    with_machine = import_qdpx(tmp_path / "all.qdpx", tmp_path, name="own_all", include_machine=True)
    assert with_machine.n_codings == counts["codings"] == 5
    assert "kwalitatief (machine)" in with_machine.path.read_text(encoding="utf-8")


NON_ASCII = {"int_a": [("R", "respondent", "De proeftuin in Café ’t Hoekje 🎉 was waardevol."),
                       ("R", "respondent", "De deadline was veel te krap, naïef gepland."),
                       ("R", "respondent", "Het gebouw staat in het centrum."),
                       ("R", "respondent", "De termijn van de minister was onhaalbaar kort.")],
             "int_b": [("R", "respondent", "De proeftuin heeft ons echt geholpen."), ("R", "respondent", "Ja."),
                       ("R", "respondent", "Nee.")]}


def _other_tool_project(path: Path, stored: bytes, selections: list[tuple[int, int, str]], code: str) -> None:
    """A project as another tool writes it: one source file (bytes as given) and selections coded ``code``."""
    from xml.etree import ElementTree as ET

    ET.register_namespace("", NS_PROJECT)
    g = iter(f"00000000-0000-0000-0000-{i:012d}" for i in range(1, 1000))
    proj = ET.Element(Q + "Project", {"name": "ander"})
    ET.SubElement(ET.SubElement(proj, Q + "Users"), Q + "User", {"guid": (ug := next(g)), "name": "Dana"})
    codes = ET.SubElement(ET.SubElement(proj, Q + "CodeBook"), Q + "Codes")
    ET.SubElement(codes, Q + "Code", {"guid": (cg := next(g)), "name": code, "isCodable": "true"})
    src = ET.SubElement(ET.SubElement(proj, Q + "Sources"), Q + "TextSource",
                        {"guid": next(g), "name": "doc.txt", "plainTextPath": "internal://doc.txt"})
    for start, end, name in selections:
        sel = ET.SubElement(src, Q + "PlainTextSelection", {"guid": next(g), "name": name, "creatingUser": ug,
                                                            "startPosition": str(start), "endPosition": str(end)})
        ET.SubElement(ET.SubElement(sel, Q + "Coding", {"guid": next(g), "creatingUser": ug}), Q + "CodeRef",
                      {"targetGUID": cg})
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", ET.tostring(proj, encoding="utf-8", xml_declaration=True))
        zf.writestr("sources/doc.txt", stored)


def _landed(result) -> list[str]:
    return [json.loads(x)["text"] for x in result.path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("how", ["crlf_counted", "crlf_stored_lf_counted", "bom_crlf_counted", "bom_counted"])
def test_import_detects_how_positions_count_line_ends_and_boms(tmp_path, how):
    """Selections over every paragraph of a CRLF / BOM / non-ASCII source land on the right fragment.

    'crlf_counted': positions over the stored CRLF text (the spec's literal reading; QualCoder reads NVivo
    and MAXQDA files so: refi.py load_text_source, the add_ending branch). 'crlf_stored_lf_counted':
    QualCoder's own export for MAXQDA (refi.py export_project, add_line_ending_for_maxqda) writes CRLF but
    keeps the positions of its LF text. QualCoder writes sources with utf-8-sig (a BOM).
    """
    project = make_review_project(tmp_path, docs=NON_ASCII, build_db=False)
    lf = project["texts"]["int_a"]
    crlf = lf.replace("\n", "\r\n")
    counted = {"crlf_counted": crlf, "crlf_stored_lf_counted": lf, "bom_crlf_counted": crlf,
               "bom_counted": "\ufeff" + lf}[how]
    stored = {"crlf_counted": crlf, "crlf_stored_lf_counted": crlf, "bom_crlf_counted": "\ufeff" + crlf,
              "bom_counted": "\ufeff" + lf}[how]
    paras = [f["text"] for f in project["fragments"] if f["doc_id"] == "int_a"]
    sels = [(counted.index(p), counted.index(p) + len(p), f"sel{i}") for i, p in enumerate(paras)]
    _other_tool_project(tmp_path / "x.qdpx", stored.encode("utf-8"), sels, "knelpunt.tijdsdruk")
    result = import_qdpx(tmp_path / "x.qdpx", tmp_path)
    assert sorted(_landed(result)) == sorted(paras)      # every selection on its own fragment
    assert result.problems == []
    label = result.readings[0].split(" (other readings")[0]
    assert ("LF-normalised" in label) == (how == "crlf_stored_lf_counted")
    assert ("byte order mark counted" in label) == (how == "bom_counted")
    assert "8 of 8 selection ends on fragment boundaries" in label


def test_import_reports_every_selection_that_lands_wrongly_or_partly(tmp_path):
    project = make_review_project(tmp_path, docs=NON_ASCII, build_db=False)
    lf = project["texts"]["int_a"]
    paras = [f["text"] for f in project["fragments"] if f["doc_id"] == "int_a"]
    good = [(lf.index(p), lf.index(p) + len(p), p) for p in (paras[0], paras[1])]   # named by their text
    # named after its text (as QualCoder does), but the positions point elsewhere
    wrong = (lf.index(paras[2]), lf.index(paras[2]) + len(paras[2]), paras[3])
    part = (lf.index("veel te krap"), lf.index("veel te krap") + len("veel te krap"), "veel te krap")
    outside = (len(lf) + 5, len(lf) + 9, "x")
    _other_tool_project(tmp_path / "w.qdpx", lf.encode("utf-8"), good + [wrong, part, outside], "knelpunt.tijdsdruk")
    result = import_qdpx(tmp_path / "w.qdpx", tmp_path)
    assert sorted(_landed(result)) == sorted([paras[0], paras[1]])   # the partial one lands within paras[1]
    wrong_msg = [p for p in result.problems if f"selection {wrong[0]}-{wrong[1]}" in p]
    assert len(wrong_msg) == 1 and "its name is" in wrong_msg[0] and "skipped" in wrong_msg[0]
    assert any(f"selection {part[0]}-{part[1]}" in p and "fragment boundaries" in p for p in result.problems)
    assert any(f"selection {outside[0]}-{outside[1]}" in p and "outside the text" in p for p in result.problems)


# ------------------------------------------------- QualCoder's import rules (ccbogel/QualCoder @ c3204641)

def _qualcoder_reading(qdpx: Path) -> tuple[dict[str, str], list[tuple[str, str, int, int, str, str]]]:
    """What QualCoder's RefiImport keeps of a project, by the rules of its code that bit us:

    * src/qualcoder/__main__.py:1824 ``code_name ... unique(name)`` and refi.py:252-270 (``sub_codes``): a
      second code of the same name raises IntegrityError, the first code's id is reused and the second GUID
      is never registered, so its codings get no code.
    * refi.py:1685-1689 (``load_codings_for_text``): the coder is the PlainTextSelection's creatingUser, and
      __main__.py:1821 ``code_text ... unique(cid,fid,pos0,pos1, owner)`` keeps one coding per code,
      selection and coder.
    * refi.py:1517-1545 (``load_text_source``): the source is read with encoding='utf-8' (a BOM stays a
      character) and a CRLF file gets every '\\n' replaced by '\\n '; refi.py:1692: the coded text is
      ``fulltext[pos0:pos1]``, code points.
    """
    with zipfile.ZipFile(qdpx) as zf:
        root = read_project(qdpx)
        raw = {s.get("name"): zf.read("sources/" + s.get("plainTextPath")[len("internal://"):])
               for s in root.iter(Q + "TextSource")}
    registered: dict[str, str] = {}
    taken: set[str] = set()
    for code in root.iter(Q + "Code"):      # document order, as the recursion of sub_codes
        if code.get("isCodable") != "false" and code.get("name") not in taken:
            taken.add(code.get("name"))
            registered[code.get("guid")] = code.get("name")
    users = {u.get("guid"): u.get("name") for u in root.iter(Q + "User")}
    kept: dict[tuple, tuple] = {}
    texts = {}
    for src in root.iter(Q + "TextSource"):
        full = raw[src.get("name")].decode("utf-8", errors="replace")
        full = full.replace("\r\n", "\n").replace("\r", "\n")
        if b"\r\n" in raw[src.get("name")]:
            full = full.replace("\n", "\n ")
        texts[src.get("name")] = full
        for sel in src.iter(Q + "PlainTextSelection"):
            s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
            for c in sel.findall(Q + "Coding"):
                name = registered.get(c.find(Q + "CodeRef").get("targetGUID"))
                key = (name, src.get("name"), s, e, users[sel.get("creatingUser")])
                kept.setdefault(key, (src.get("name"), name, s, e, users[sel.get("creatingUser")], full[s:e]))
    return texts, list(kept.values())


def test_export_loses_nothing_under_qualcoders_import_rules(tmp_path):
    project = make_review_project(tmp_path, build_db=False)
    path = tmp_path / "codebook/reviews.jsonl"
    for reviewer, valence in (("anna", "negatief"), ("bram", "gemengd")):   # same fragment, same code
        append_decision(path, make_decision(reviewer, _frag(project, 1), "opinie.proeftuin", "change_valence", valence, has_valence=True))
    counts = export_qdpx(tmp_path / "q.qdpx", tmp_path, include_unreviewed=True)
    _, kept = _qualcoder_reading(tmp_path / "q.qdpx")
    assert len(kept) == counts["codings"] == 6                   # nothing merged away by a unique constraint
    assert all(name is not None for _, name, *_ in kept)         # every coding under a registered code
    by_id = {f["fragment_id"]: f for f in project["fragments"]}
    frag_at = {(f["doc_id"], f["start"], f["end"]): f for f in by_id.values()}
    for doc, _, s, e, _, text in kept:
        assert text == frag_at[(doc, s, e)]["text"]              # QualCoder's selected text is the fragment's
    valences = sorted((user, name) for _, name, *_, user, _ in kept if name.startswith("opinie.proeftuin"))
    assert valences == [("anna", "opinie.proeftuin · negatief"), ("bram", "opinie.proeftuin · gemengd"),
                        ("kwalitatief (machine)", "opinie.proeftuin · positief")]
    with zipfile.ZipFile(tmp_path / "q.qdpx") as zf:   # QualCoder would count a BOM or CR as text
        assert not any(zf.read(n).startswith(b"\xef\xbb\xbf") or b"\r" in zf.read(n)
                       for n in zf.namelist() if n.startswith("sources/"))


def test_an_export_of_machine_codings_only_imports_nothing_and_writes_no_file(tmp_path):
    make_review_project(tmp_path, build_db=False)
    export_qdpx(tmp_path / "m.qdpx", tmp_path, include_unreviewed=True)
    result = import_qdpx(tmp_path / "m.qdpx", tmp_path, name="m")
    assert result.n_lines == 0 and result.n_machine_skipped == 5 and not result.path.exists()
    assert list(result.reading_of.values()) == ["code points of the stored text"] * 2


def test_selection_labels_of_other_tools_are_not_mistaken_for_their_text(tmp_path):
    """MAXQDA and others name selections by a label; only a tool that names them by their text (QualCoder)
    has a name that can contradict the positions."""
    project = make_review_project(tmp_path, docs=NON_ASCII, build_db=False)
    lf = project["texts"]["int_a"]
    paras = [f["text"] for f in project["fragments"] if f["doc_id"] == "int_a"]
    sels = [(lf.index(p), lf.index(p) + len(p), f"Codiertes Segment {i}") for i, p in enumerate(paras)]
    _other_tool_project(tmp_path / "l.qdpx", lf.encode("utf-8"), sels, "knelpunt.tijdsdruk")
    result = import_qdpx(tmp_path / "l.qdpx", tmp_path)
    assert sorted(_landed(result)) == sorted(paras) and result.problems == []
