"""The report: escaped text, self-contained, reproducible, with verdicts, evidence and provenance."""

from __future__ import annotations

import re
from pathlib import Path

from kwalitatief.aggregate import aggregate_tables, build_frame
from kwalitatief.conclusions import evaluate_conclusions, load_conclusions, parse_quantifiers
from kwalitatief.config import load_params
from kwalitatief.report import build_context, render_html, render_markdown, write_report
from study_factory import CATEGORIES, OUTSIDE, REGIONS, VALENCED, declarations, study

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
MARKUP = 'De proeftuin <script>alert("x")</script> was <b>top</b> & "goed" | echt.'
CLAIMS = """\
conclusions:
  - id: c-<i>1</i>
    text: De meeste <em>regio's</em> missen financiering.
    code: knelpunt.financiering
    unit: region
    population: alle
    quantifier: de meeste
"""
PROVENANCE = {"codebook_version": "cb123", "model_version": "m456", "corpus_hash": "abc", "date": "2022-06-01"}


def _context(tmp_path, plots=True, provenance=None, problems=(), figures=None, texts=None):
    codings, fragments, documents, respondents, regions, codes = study(texts or {"t1-1": MARKUP})
    frame = build_frame(codings, fragments, documents, respondents, regions, codes, VALENCED, OUTSIDE)
    quantifiers = parse_quantifiers(load_params(PARAMS)["conclusions"]["quantifiers"])
    (tmp_path / "c.yaml").write_text(CLAIMS, encoding="utf-8")
    claims = load_conclusions(tmp_path / "c.yaml", codes, quantifiers, REGIONS, declarations(), VALENCED)
    results = evaluate_conclusions(claims, frame, {f["fragment_id"]: f for f in fragments}, quantifiers,
                                   min_population=2, evidence_max=10, study=declarations())
    metrics = {"n_annotations": 100, "cv_folds": 5, "merge_policy": "union",
               "rules": {"micro_f1": 0.61, "macro_f1": 0.5}, "merged": {"micro_f1": 0.72, "macro_f1": 0.6},
               "per_code": {"knelpunt.financiering": {"support": 12, "rules": {"f1": 0.7}, "merged": {"f1": 0.8}}}}
    return build_context(results, aggregate_tables(frame), REGIONS, provenance or PROVENANCE, metrics, plots=plots,
                         study=declarations(), categories=CATEGORIES, problems=list(problems), figures=figures)


def test_figures_are_drawn_again_only_when_their_data_change(tmp_path, monkeypatch):
    """A figure drawn before from the same table is taken from the cache: the same report; a change in
    its data draws it again, and the cache keeps only the figures in use."""
    from kwalitatief import report

    drawn: list[str] = []
    for name in ("heatmap_regions", "bars_respondent_type", "bars_valence"):
        original = getattr(report, name)

        def counting(*args, _original=original):
            drawn.append(_original.__name__)
            return _original(*args)

        counting.__name__ = name
        monkeypatch.setattr(report, name, counting)
    cache = tmp_path / "figures"
    fresh = _context(tmp_path)
    assert len(drawn) == 3 and fresh["heatmap"]
    first = _context(tmp_path, figures=report.FigureCache(cache))
    again = report.FigureCache(cache)
    second = _context(tmp_path, figures=again)
    assert len(drawn) == 6                          # the second report drew nothing
    assert render_html(first) == render_html(second) == render_html(fresh)
    assert len(list(cache.iterdir())) == 3

    calls = []

    def draw(table):
        calls.append(len(table))
        return f"png of {len(table)} rows"

    import pandas as pd

    one, two = pd.DataFrame({"n": [1]}), pd.DataFrame({"n": [1, 2]})
    figures = report.FigureCache(tmp_path / "small")
    assert figures.get(draw, one) == figures.get(draw, one) == "png of 1 rows" and calls == [1]
    assert figures.get(draw, two) == "png of 2 rows" and calls == [1, 2]   # other data: drawn again
    later = report.FigureCache(tmp_path / "small")
    assert later.get(draw, two) == "png of 2 rows" and calls == [1, 2]
    later.prune()                                                           # only the figure in use stays
    assert len(list((tmp_path / "small").iterdir())) == 1


def test_fragment_markup_is_escaped(tmp_path):
    html = render_html(_context(tmp_path, plots=False))
    assert "<script>alert" not in html and "<b>top</b>" not in html and "<em>regio" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "c-&lt;i&gt;1&lt;/i&gt;" in html
    md = render_markdown(_context(tmp_path, plots=False))
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "echt" in md and "\\|" in md     # a pipe cannot break a Markdown table


def test_report_is_self_contained_and_reproducible(tmp_path):
    write_report(tmp_path / "a.html", tmp_path / "a.md", _context(tmp_path))
    write_report(tmp_path / "b.html", tmp_path / "b.md", _context(tmp_path))
    first = (tmp_path / "a.html").read_bytes()
    assert first == (tmp_path / "b.html").read_bytes()
    assert (tmp_path / "a.md").read_bytes() == (tmp_path / "b.md").read_bytes()
    html = first.decode("utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', html)          # nothing fetched from elsewhere
    assert html.count('src="data:image/png;base64,') == 3            # heat map, respondent types, valence


def test_report_shows_verdicts_evidence_metrics_and_provenance(tmp_path):
    html = render_html(_context(tmp_path, plots=False))
    assert "ondersteund" in html and "2 van 3" in html
    assert "gemeente · Aland · t1" in html                           # provenance of a quote: type, region, doc
    assert "Jan Jansen" not in html                                   # never a name
    for value in ("cb123", "m456", "abc", "2022-06-01", "0.72"):
        assert value in html
    assert "knelpunt.financiering" in html


def test_report_header_names_every_input_hash_and_where_the_run_time_is(tmp_path):
    from kwalitatief.provenance import fingerprint

    hashes = {"hash_params": "p1", "hash_register": "r2", "hash_codebook": "c3", "hash_lexicon": "l4",
              "hash_conclusions": "k5", "hash_annotations": "a6", "hash_reviews": "v7", "version_scikit-learn": "9.9"}
    record = {"codebook_version": "cb123", "corpus_hash": "abc", **hashes}
    record["fingerprint"] = fingerprint(record)
    html = render_html(_context(tmp_path, plots=False, provenance=record))
    md = render_markdown(_context(tmp_path, plots=False, provenance=record))
    header = html[html.index('<p class="meta">'):html.index("</p>", html.index('<p class="meta">'))]
    assert record["fingerprint"] in header and 'href="#herkomst"' in header
    for label, value in (("hash params.yaml", "p1"), ("hash register", "r2"), ("hash lexicon", "l4"),
                         ("hash conclusies", "k5"), ("hash annotaties", "a6"), ("hash beoordelingen", "v7"),
                         ("versie scikit-learn", "9.9")):
        assert re.search(f"<th>{re.escape(label)}[^<]*</th><td>{value}</td>", html), label
    assert "outputs/run.json" in html and "outputs/run.json" in md and record["fingerprint"] in md


def test_the_report_lists_the_problems_messages_errors_first_and_counts_the_rest(tmp_path):
    problems = [{"stage": "ingest", "severity": "warning", "doc_id": f"t{i}", "message": f"pagina {i}: <b>leeg</b>"}
                for i in range(60)]
    problems.insert(30, {"stage": "extract", "severity": "error", "doc_id": "t99",
                         "message": "bestand corpus/t99.pdf kan niet worden gelezen"})
    context = _context(tmp_path, plots=False, problems=problems)
    html, md = render_html(context), render_markdown(context)
    for text in (html, md):
        assert "bestand corpus/t99.pdf kan niet worden gelezen" in text      # the error, although 31st
        assert "pagina 0: &lt;b&gt;leeg&lt;/b&gt;" in text and "<b>leeg</b>" not in text   # escaped
        assert "pagina 48:" in text and "pagina 49:" not in text           # 1 error + 49 warnings shown
        assert "nog 11 meldingen" in text
    assert html.index("t99.pdf") < html.index("pagina 0:") and md.index("t99.pdf") < md.index("pagina 0:")
    few = _context(tmp_path, plots=False, problems=problems[:3])
    assert "Alle meldingen" in render_html(few) and "nog " not in render_markdown(few).split("Meldingen")[1]
    assert "Geen meldingen." in render_markdown(_context(tmp_path, plots=False))
