"""Aggregates count distinct people and regions, and can be recomputed from the codings with plain SQL."""

from __future__ import annotations

import sqlite3

import pandas as pd
from kwalitatief import store
from kwalitatief.aggregate import aggregate_tables, build_frame, read_exports, unit_valence, workbook_bytes, write_exports
from kwalitatief.report import create_views
from study_factory import OUTSIDE, VALENCED, study


def test_a_respondent_who_repeats_a_code_counts_once():
    frame = build_frame(*study(), VALENCED, OUTSIDE)
    tables = aggregate_tables(frame)
    row = tables["agg_code_region"].query("code == 'knelpunt.financiering' and region == 'Aland'").iloc[0]
    assert row["n_fragments"] == 4          # R1 said it three times, R2 once ...
    assert row["n_respondents"] == 2        # ... two people
    assert row["respondents_in_group"] == 2
    assert row["share_respondents"] == 1.0
    assert row["n_documents"] == 2
    total = tables["agg_code_totals"].query("code == 'knelpunt.financiering'").iloc[0]
    assert total["n_respondents"] == 3 and total["n_regions"] == 2
    assert total["regions_total"] == 3      # geen and landelijk are not regions
    assert total["share_regions"] == round(2 / 3, 4)


def test_codes_without_codings_get_zero_rows():
    tables = aggregate_tables(build_frame(*study(), VALENCED, OUTSIDE))
    rows = tables["agg_code_region"].query("code == 'knelpunt.tijdsdruk'")
    assert len(rows) == 5 and rows["n_respondents"].sum() == 0


def test_unit_valence_rule():
    assert unit_valence(["positief", "positief"]) == "positief"
    assert unit_valence(["negatief"]) == "negatief"
    assert unit_valence(["positief", "negatief"]) == "gemengd"
    assert unit_valence(["positief", "gemengd"]) == "gemengd"
    assert unit_valence([None, "negatief"]) == "negatief"
    assert unit_valence([None]) == "onbekend"


def test_opinie_split_by_respondent_valence():
    tables = aggregate_tables(build_frame(*study(), VALENCED, OUTSIDE))
    val = tables["agg_valence"].query("code == 'opinie.proeftuin' and group_by == 'totaal'")
    counts = dict(zip(val["valence"], val["n_respondents"]))
    # R1 positief twice -> positief; R2 positief + negatief -> gemengd; R4 negatief
    assert counts == {"positief": 1, "gemengd": 1, "negatief": 1}
    assert set(val["respondents_with_opinion"]) == {3}


def test_cooccurrence_within_fragment_and_respondent():
    tables = aggregate_tables(build_frame(*study(), VALENCED, OUTSIDE))
    frag = tables["cooc_fragment"].query("code_a == 'knelpunt.financiering' and code_b == 'opinie.proeftuin'")
    assert frag.iloc[0]["n_fragments"] == 1
    resp = tables["cooc_respondent"].query("code_a == 'knelpunt.financiering' and code_b == 'opinie.proeftuin'")
    assert resp.iloc[0]["n_respondents"] == 2   # R1 and R2 carry both, in different fragments


def test_unknown_fragment_is_reported_not_dropped_silently():
    codings, fragments, documents, respondents, regions, codes = study()
    codings = codings + [{"fragment_id": "gone-1", "code": "doel.matching", "valence": None}]
    frame = build_frame(codings, fragments, documents, respondents, regions, codes, VALENCED, OUTSIDE)
    assert any("gone-1" in p["message"] for p in frame.problems)


def _database(tmp_path):
    codings, fragments, documents, respondents, regions, codes = study()
    frame = build_frame(codings, fragments, documents, respondents, regions, codes, VALENCED, OUTSIDE)
    tables = aggregate_tables(frame)
    write_exports(tables, tmp_path / "aggregates", tmp_path / "aggregates.xlsx")
    loaded = read_exports(tmp_path / "aggregates")
    db = store.build_database(
        tmp_path / "k.db", regions=[{"region": r} for r in regions], respondents=respondents,
        documents=documents, fragments=fragments, problems=[], provenance={"x": 1},
        codings=[{**c, "sources": "rule", "status": "unreviewed"} for c in codings], tables=loaded)
    db["codes"].insert_all([{"code": c, "label": c, "category": c.split(".")[0], "category_label": "",
                             "valence": c in VALENCED} for c in codes])
    create_views(db, OUTSIDE)
    return tmp_path / "k.db"


def test_aggregates_recomputed_with_plain_sql_match(tmp_path):
    con = sqlite3.connect(_database(tmp_path))
    recomputed = {}
    for code, region, n in con.execute("""
            select c.code, coalesce(r.region, d.region), count(distinct f.respondent_id)
            from codings c join fragments f using (fragment_id) join documents d using (doc_id)
            left join respondents r on r.respondent_id = f.respondent_id
            group by 1, 2"""):
        recomputed[(code, region)] = n
    table = {(c, r): n for c, r, n in con.execute("select code, region, n_respondents from agg_code_region")}
    assert recomputed, "no codings in the test study"
    for key, n in recomputed.items():
        assert table[key] == n, key
    assert sum(n for k, n in table.items() if k not in recomputed) == 0
    by_type = dict(((c, t), n) for c, t, n in con.execute("""
            select c.code, r.respondent_type, count(distinct r.respondent_id)
            from codings c join fragments f using (fragment_id) join respondents r using (respondent_id)
            group by 1, 2"""))
    for code, rtype, n in con.execute("select code, respondent_type, n_respondents from agg_code_respondent_type"):
        assert by_type.get((code, rtype), 0) == n, (code, rtype)
    regions = dict(con.execute("""
            select c.code, count(distinct coalesce(r.region, d.region))
            from codings c join fragments f using (fragment_id) join documents d using (doc_id)
            left join respondents r on r.respondent_id = f.respondent_id
            where coalesce(r.region, d.region) not in ('geen', 'landelijk') group by 1""").fetchall())
    for code, n in con.execute("select code, n_regions from agg_code_totals"):
        assert regions.get(code, 0) == n, code


def test_views_answer_the_common_questions(tmp_path):
    con = sqlite3.connect(_database(tmp_path))
    knelpunten = con.execute("select code, n_regions from v_regions_per_code where category = 'knelpunt'").fetchall()
    assert knelpunten[0] == ("knelpunt.financiering", 2)
    assert not con.execute("select * from v_regions_per_code where regions like '%geen%'").fetchall()
    proeftuin = con.execute("select respondent_type, valence, n_respondents from v_valence_per_respondenttype "
                            "where code = 'opinie.proeftuin'").fetchall()
    assert ("gemeente", "positief", 1) in proeftuin and ("provincie", "gemengd", 1) in proeftuin


def test_exports_are_reproducible(tmp_path):
    tables = aggregate_tables(build_frame(*study(), VALENCED, OUTSIDE))
    data = workbook_bytes(tables, date=(2022, 6, 1))
    assert data == workbook_bytes(tables, date=(2022, 6, 1))
    import zipfile

    core = zipfile.ZipFile(pd.io.common.BytesIO(data)).read("docProps/core.xml").decode()
    assert core.count("2022-06-01T00:00:00Z") == 2          # created and modified: no wall clock
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zipfile.ZipFile(pd.io.common.BytesIO(data)).infolist())
    sheets = pd.read_excel(pd.io.common.BytesIO(data), sheet_name=None)
    assert set(sheets) == set(tables)
    assert len(sheets["agg_code_region"]) == len(tables["agg_code_region"])



def test_database_holds_every_fragment_and_coding_as_sqlite_utils_would_write_them(tmp_path):
    import sqlite_utils

    codings, fragments, documents, respondents, regions, codes = study()
    odd = {**codings[0], "evidence": ["samen", "werken"], "score": 0.5}   # a list is stored as JSON text
    db = sqlite_utils.Database(_database(tmp_path))
    assert db["fragments"].count == len(fragments) and db["codings"].count == len(codings)
    store.insert_rows(db, "codings_check", store.MERGED_COLUMNS, [odd])
    reference = sqlite_utils.Database(memory=True)
    reference["codings_check"].insert_all([{k: odd.get(k) for k in store.MERGED_COLUMNS}],
                                          columns=store.MERGED_COLUMNS)
    assert list(db["codings_check"].rows) == list(reference["codings_check"].rows)
    assert next(db["codings_check"].rows)["evidence"] == '["samen", "werken"]'
    assert db["codings_check"].columns_dict == reference["codings_check"].columns_dict
    stored = {row["fragment_id"]: row for row in db["fragments"].rows}
    for fragment in fragments:
        assert stored[fragment["fragment_id"]]["text"] == fragment["text"]
