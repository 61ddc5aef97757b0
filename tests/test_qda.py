"""REFI-QDA exchange: the .qdpx export follows the standard, and export then import gives the codings back."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from review_factory import make_review_project

from kwalitatief.codebook import load_codebook
from kwalitatief.qda import NS_CODEBOOK, NS_PROJECT, QdaError, codebook_xml, export_qdpx, import_qdpx, read_project
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
    assert [c.get("name") for c in proeftuin.findall(Q + "Code")] == ["positief", "negatief", "gemengd"]
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
    gemengd = next(c for c in proeftuin.findall(Q + "Code") if c.get("name") == "gemengd").get("guid")
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
    rows = [json.loads(x) for x in (root / "outputs/work/fragments.jsonl").read_text().splitlines()]
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
    from kwalitatief.classify import load_annotations

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
