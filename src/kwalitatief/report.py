"""The study report: one self-contained HTML file (and a Markdown twin) with the conclusions, their
verdicts and evidence, the findings per region and respondent type, the coding metrics and provenance.

Everything in it is computed from the stage artefacts; all text is HTML-escaped (jinja2 autoescape:
transcripts can contain anything). Plots are matplotlib PNGs (Agg backend, no software/date metadata)
embedded as base64, so the same inputs give a byte-identical file.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .report_robustness import claim_view as robustness_view
from .report_robustness import markdown_claim
from .report_robustness import markdown_summary as markdown_robustness
from .report_robustness import summary as robustness_summary

VERDICT_CLASS = {"ondersteund": "ok", "niet ondersteund": "no", "te weinig gegevens": "na"}
VALENCE_COLOURS = {"positief": "#3a8d5d", "gemengd": "#d9a441", "negatief": "#c0504d"}
SOURCE_LABELS = {"rule": "regel", "classifier": "classifier", "rule+classifier": "regel + classifier",
                 "review": "handmatig toegevoegd", "annotation": "handmatig gecodeerd"}
STATUS_LABELS = {"unreviewed": "niet beoordeeld", "accepted": "geaccepteerd door onderzoeker",
                 "annotated": "gecodeerd door onderzoeker (annotatie)",
                 "added": "toegevoegd door onderzoeker", "valence_changed": "waardering aangepast door onderzoeker"}
PROVENANCE_LABELS = {"codebook_version": "versie codeboek", "model_version": "versie classifier",
                     "corpus_hash": "corpus (hash van manifest en documenten)", "date": "datum (SOURCE_DATE_EPOCH)",
                     "kwalitatief_version": "versie kwalitatief", "fingerprint": "vingerafdruk van invoer en versies",
                     "hash_params": "hash params.yaml", "hash_register": "hash register (manifest, respondenten, "
                     "regio's, studie)", "hash_codebook": "hash codeboek", "hash_lexicon": "hash lexicon",
                     "hash_conclusions": "hash conclusies", "hash_annotations": "hash annotaties",
                     "hash_reviews": "hash beoordelingen", "hash_pseudonyms": "hash pseudoniemenlijst",
                     "hash_code": "hash van de code (src/, pipeline/)",
                     "n_codings": "coderingen", "n_conclusions": "conclusies", "n_documents": "documenten"}
RUN_LOG_NOTE = "datum, tijd en git-versie van elke run: outputs/run.json en outputs/runs.jsonl (kwal run)"


# --------------------------------------------------------------------------- plots

def _matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams.update({"svg.hashsalt": "kwalitatief", "font.family": "DejaVu Sans", "font.size": 9,
                                "axes.spines.top": False, "axes.spines.right": False})
    return plt


def png_base64(fig: Any) -> str:
    """A figure as base64 PNG without metadata that changes between runs."""
    plt = _matplotlib()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def category_of(code: str) -> str:
    return str(code).split(".", 1)[0]


def heatmap_regions(by_region: pd.DataFrame, regions: Sequence[str], outside: Sequence[str] = ()) -> str | None:
    """Codes × regions: number of sources (respondents, and documents without a respondent) per cell."""
    if by_region.empty:
        return None
    plt = _matplotlib()
    table = by_region.pivot_table(index="code", columns="region", values="n_sources", aggfunc="sum", fill_value=0)
    columns = [r for r in regions if r in table.columns]
    table = table.reindex(columns=columns, fill_value=0).sort_index()
    fig, ax = plt.subplots(figsize=(1.0 + 0.48 * len(columns), 0.8 + 0.3 * len(table)))
    image = ax.imshow(table.values, aspect="auto", cmap="Blues", vmin=0, vmax=max(1, int(table.values.max())))
    ax.set_xticks(range(len(columns)), labels=columns, rotation=55, ha="right")
    ax.set_yticks(range(len(table)), labels=list(table.index))
    ax.tick_params(length=0)
    threshold = table.values.max() * 0.6
    for y in range(table.shape[0]):
        for x in range(table.shape[1]):
            value = int(table.values[y, x])
            if value:
                ax.text(x, y, str(value), ha="center", va="center", fontsize=7.5,
                        color="white" if value > threshold else "#1b2a3a")
    cats = [category_of(code) for code in table.index]
    for y in range(1, len(cats)):
        if cats[y] != cats[y - 1]:
            ax.axhline(y - 0.5, color="#333", linewidth=0.8)
    specials = [i for i, r in enumerate(columns) if r in outside]
    if specials:
        ax.axvline(min(specials) - 0.5, color="#333", linewidth=1.2)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.colorbar(image, ax=ax, fraction=0.025, pad=0.01, label="bronnen met de code")
    return png_base64(fig)


def bars_respondent_type(by_type: pd.DataFrame, labels: dict[str, str] | None = None) -> str | None:
    """Per code: respondents carrying it, stacked by respondent type."""
    if by_type.empty:
        return None
    plt = _matplotlib()
    table = by_type.pivot_table(index="code", columns="respondent_type", values="n_respondents",
                                aggfunc="sum", fill_value=0)
    table = table.loc[sorted(table.index, reverse=True)]
    fig, ax = plt.subplots(figsize=(8.5, 0.8 + 0.27 * len(table)))
    left = pd.Series(0, index=table.index)
    colours = plt.get_cmap("tab10").colors
    for i, column in enumerate(table.columns):
        ax.barh(table.index, table[column], left=left, color=colours[i % 10], label=(labels or {}).get(column, column))
        left = left + table[column]
    ax.set_xlabel("respondenten (elk één keer geteld)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(-0.6, len(table) - 0.4)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, frameon=False, fontsize=8)
    return png_base64(fig)


def bars_valence(valence: pd.DataFrame) -> str | None:
    """Per code with valence: respondents by their valence (positief, gemengd, negatief)."""
    data = valence[valence["group_by"] == "totaal"] if not valence.empty else valence
    if data.empty or data["n_respondents"].sum() == 0:
        return None
    plt = _matplotlib()
    table = data.pivot_table(index="code", columns="valence", values="n_respondents", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=[v for v in VALENCE_COLOURS if v in table.columns])
    table = table.loc[sorted(table.index, reverse=True)]
    fig, ax = plt.subplots(figsize=(8.5, 0.9 + 0.35 * len(table)))
    left = pd.Series(0, index=table.index)
    for valence_name in table.columns:
        ax.barh(table.index, table[valence_name], left=left, color=VALENCE_COLOURS[valence_name], label=valence_name)
        for y, (start, width) in enumerate(zip(left, table[valence_name])):
            if width:
                ax.text(start + width / 2, y, str(int(width)), ha="center", va="center", color="white", fontsize=8)
        left = left + table[valence_name]
    ax.set_xlabel("respondenten met een oordeel (elk één keer geteld)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False, fontsize=8)
    return png_base64(fig)


class FigureCache:
    """The report's figures by the data they show: a figure whose table, arguments, drawing code and
    matplotlib version are those of a figure drawn before is taken from ``folder`` (PNG as base64 text)
    instead of drawn again (drawing took most of a report after a small edit). ``prune`` leaves only the
    figures used since the cache was opened."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.used: set[str] = set()

    def get(self, draw: Callable[..., str | None], *args: Any) -> str | None:
        import hashlib
        import sys
        from importlib import metadata

        from .cache import source_fingerprint

        digest = hashlib.sha256(f"{draw.__name__}\n{source_fingerprint(sys.modules[__name__])}\n"
                                f"{metadata.version('matplotlib')}\n".encode())
        for arg in args:
            digest.update((arg.to_csv(index=False) if isinstance(arg, pd.DataFrame) else repr(arg)).encode())
            digest.update(b"\0")
        name = f"{draw.__name__}-{digest.hexdigest()[:24]}.txt"
        self.used.add(name)
        path = self.folder / name
        if path.exists():
            text = path.read_text(encoding="ascii")
            return text or None
        figure = draw(*args)
        from .jsonio import atomic_write_text

        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, figure or "")
        return figure

    def prune(self) -> None:
        for path in self.folder.glob("*.txt") if self.folder.is_dir() else ():
            if path.name not in self.used:
                path.unlink()


# --------------------------------------------------------------------------- data for the page

def _num(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _versus(comparison: dict[str, Any] | None) -> str:
    """For a comparison claim: the comparison group's count and share next to the population's."""
    if not comparison:
        return ""
    return (f" tegen {comparison['n_matching']} van {comparison['n_population']} "
            f"({_pct(comparison.get('share'))}) bij {comparison['population_label']}")


def _pct(share: Any) -> str:
    share = _num(share)
    return "–" if share is None else f"{float(share) * 100:.0f} %"


def metrics_view(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    """Summary rows per system and per-code F1 rows from ``outputs/metrics.json`` (None if absent)."""
    if not metrics:
        return None
    systems = [s for s in ("rules", "classifier", "merged") if isinstance(metrics.get(s), dict)]
    summary = [{"system": s, **{k: _fmt(v) for k, v in metrics[s].items()}} for s in systems]
    per_code = []
    for code, row in sorted((metrics.get("per_code") or {}).items()):
        per_code.append({"code": code, "support": row.get("support"),
                         **{s: _fmt((row.get(s) or {}).get("f1")) for s in systems}})
    return {"n_annotations": metrics.get("n_annotations"), "cv_folds": metrics.get("cv_folds"),
            "merge_policy": metrics.get("merge_policy"), "systems": systems, "summary": summary,
            "per_code": per_code}


def _fmt(value: Any) -> str:
    value = _num(value)
    if value is None:
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def conclusions_view(results: Sequence[dict[str, Any]], type_labels: dict[str, str] | None = None,
                     doc_labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Conclusion results with display strings (counts, share, verdict class, the study's labels)."""
    type_labels, doc_labels = type_labels or {}, doc_labels or {}
    out = []
    for r in results:
        valence = " of ".join(r.get("valence") or [])
        evidence = [{**e, "who": " · ".join(str(x) for x in (
                        type_labels.get(e.get("respondent_type"), e.get("respondent_type"))
                        or doc_labels.get(e.get("doc_type"), e.get("doc_type")),
                        e.get("region"), e.get("doc_id"), e.get("fragment_id")) if x),
                     "how": " · ".join(x for x in (
                        SOURCE_LABELS.get(e.get("sources"), e.get("sources")),
                        f"score {e['score']:.2f}" if isinstance(e.get("score"), (int, float)) else None,
                        STATUS_LABELS.get(e.get("status"), e.get("status"))) if x)}
                    for e in r.get("evidence", [])]
        out.append({**r, **robustness_view(r), "evidence": evidence, "valence_text": valence,
                    "share_text": _pct(r.get("share")),
                    "verdict_class": VERDICT_CLASS.get(r["verdict"], "na"),
                    "measured": f"{r['n_matching']} van {r['n_population']}" + _versus(r.get("comparison")),
                    "quantifier": r.get("quantifier") or "meer dan de vergelijkingsgroep"})
    return out


def top_regions_table(by_region: pd.DataFrame, totals: pd.DataFrame, category_name: str,
                      limit: int = 12) -> list[dict[str, Any]]:
    """Codes of a category ordered by the number of real regions that name them."""
    if totals.empty:
        return []
    rows = totals[totals["category"] == category_name].sort_values(["n_regions", "n_respondents", "code"],
                                                                   ascending=[False, False, True])
    out = []
    for row in rows.head(limit).to_dict(orient="records"):
        regions = by_region[(by_region["code"] == row["code"]) & (by_region["n_sources"] > 0)
                            & by_region["real_region"].astype(bool)]["region"].tolist()
        out.append({"code": row["code"], "n_regions": int(row["n_regions"]), "share_regions": _pct(row["share_regions"]),
                    "n_respondents": int(row["n_respondents"]), "share_respondents": _pct(row["share_respondents"]),
                    "n_fragments": int(row["n_fragments"]), "regions": ", ".join(regions)})
    return out


def build_context(results: Sequence[dict[str, Any]], tables: dict[str, pd.DataFrame], regions: Sequence[str],
                  provenance: dict[str, Any], metrics: dict[str, Any] | None,
                  quantifiers: Sequence[dict[str, Any]] = (), problems: Sequence[dict[str, Any]] = (),
                  plots: bool = True, study: Any = None, categories: dict[str, str] | None = None,
                  code_labels: dict[str, str] | None = None, figures: FigureCache | None = None) -> dict[str, Any]:
    """Everything the templates show. ``study`` (:class:`kwalitatief.study.Study`) gives the title and the
    labels, ``categories`` the codebook's category labels (id -> label, codebook order), ``code_labels``
    each code's label; ``figures`` reuses figures drawn before from the same data."""
    empty = pd.DataFrame()
    by_region = tables.get("agg_code_region", empty)
    totals = tables.get("agg_code_totals", empty)
    type_labels = {k: v.label for k, v in study.respondent_types.items()} if study else {}
    doc_labels = {k: v.label for k, v in study.document_types.items()} if study else {}
    outside = list(study.outside) if study else []
    categories = categories if categories is not None else {c: c for c in sorted(set(totals.get("category", [])))}
    conclusions = conclusions_view(results, type_labels, doc_labels)
    counts = {v: sum(1 for c in conclusions if c["verdict"] == v) for v in VERDICT_CLASS}
    nouns = {"region": study.region_plural if study else "regio's", "respondent": "respondenten", "document": "documenten"}

    def plot(draw: Callable[..., str | None], *args: Any) -> str | None:
        if not plots:
            return None
        return figures.get(draw, *args) if figures is not None else draw(*args)

    return {
        "conclusions": conclusions, "verdict_counts": counts, "quantifiers": list(quantifiers),
        "robustness": robustness_summary(results, nouns),   # conclusions robustness (issue 17)
        "provenance": dict(sorted(provenance.items())),
        "provenance_rows": [(PROVENANCE_LABELS.get(k, k.replace("version_", "versie ")), v)
                            for k, v in sorted(provenance.items())] + [("run", RUN_LOG_NOTE)],
        "metrics": metrics_view(metrics),
        "categories": [{"name": label, "rows": top_regions_table(by_region, totals, c, limit=24)}
                       for c, label in categories.items()],
        "heatmap": plot(heatmap_regions, by_region, list(regions), outside),
        "bars_type": plot(bars_respondent_type, tables.get("agg_code_respondent_type", empty), type_labels),
        "bars_valence": plot(bars_valence, tables.get("agg_valence", empty)),
        "n_regions": len([r for r in regions if r not in outside]),
        "title": study.title if study else "kwalitatief",
        "description": study.description if study else "",
        "region_label": study.region_label if study else "regio",
        "region_plural": study.region_plural if study else "regio's",
        "outside_labels": [study.outside[o] for o in outside] if study else [],
        "code_labels": dict(code_labels or {}),
        "n_problems": len(problems),
        "problem_counts": _problem_counts(problems),
        "problems": _problems_shown(problems),
        "n_problems_hidden": max(0, len(problems) - MAX_PROBLEMS_SHOWN),
        "n_errors": sum(1 for p in problems if p.get("severity") == "error"),
    }


MAX_PROBLEMS_SHOWN = 50   # the report lists this many problem messages; the rest are counted (all are in the db)


def _problems_shown(problems: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The first :data:`MAX_PROBLEMS_SHOWN` problems, errors first (else in the run's order), as the report
    shows them. The messages are the pseudonymised ones of the ``problems`` table."""
    ordered = sorted(problems, key=lambda p: p.get("severity") != "error")
    return [{"stage": str(p.get("stage") or ""), "severity": str(p.get("severity") or "warning"),
             "doc_id": str(p.get("doc_id") or ""), "message": str(p.get("message") or "")}
            for p in ordered[:MAX_PROBLEMS_SHOWN]]


def _problem_counts(problems: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], int] = {}
    for p in problems:
        key = (str(p.get("stage")), str(p.get("severity", "warning")))
        counts[key] = counts.get(key, 0) + 1
    return [{"stage": k[0], "severity": k[1], "n": n} for k, n in sorted(counts.items())]


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("kwalitatief", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "html.j2"], default=True),
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    return env


def render_html(context: dict[str, Any]) -> str:
    """The self-contained HTML report (every value escaped)."""
    return _environment().get_template("report.html.j2").render(**context)


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell or paragraph (no raw HTML, no table breaks)."""
    import html

    value = "" if text is None else str(text)
    return html.escape(value, quote=False).replace("|", "\\|").replace("\n", " ")


def _markdown_problems(context: dict[str, Any]) -> list[str]:
    """The report's section of pipeline problems in Markdown: counts, then the messages (at most 50)."""
    lines = ["## Meldingen van de pijplijn", ""]
    if not context["n_problems"]:
        return lines + ["Geen meldingen.", ""]
    lines += [f"{context['n_problems']} meldingen ({context['n_errors']} fouten); alle staan in de tabel "
              "`problems` van outputs/kwalitatief.db.", ""]
    lines += [f"- {_md(p['severity'])} · {_md(p['stage'])}" + (f" · {_md(p['doc_id'])}" if p["doc_id"] else "")
              + f": {_md(p['message'])}" for p in context["problems"]]
    if context["n_problems_hidden"]:
        lines += [f"- … en nog {context['n_problems_hidden']} meldingen (zie de tabel `problems`)"]
    return lines + [""]


def render_markdown(context: dict[str, Any]) -> str:
    """The report as Markdown: conclusions with verdicts and evidence, findings, metrics, provenance."""
    lines = [f"# {_md(context['title'])}", "", "Conclusies nagerekend op de gecodeerde gegevens.", ""]
    if context.get("description"):
        lines += [_md(context["description"]), ""]
    p = context["provenance"]
    lines += [f"Codeboek {_md(p.get('codebook_version', '–'))} · model {_md(p.get('model_version', '–'))} · "
              f"corpus {_md(p.get('corpus_hash', '–'))} · herkomst {_md(p.get('fingerprint', '–'))}"
              + (f" · {_md(p['date'])}" if p.get("date") else ""), ""]
    counts = context["verdict_counts"]
    lines += [f"{len(context['conclusions'])} conclusies: {counts['ondersteund']} ondersteund, "
              f"{counts['niet ondersteund']} niet ondersteund, {counts['te weinig gegevens']} te weinig gegevens.", ""]
    lines += markdown_robustness(context["robustness"], _md)
    lines += ["| id | conclusie | kwantor | gemeten | aandeel | data steunen | oordeel | robuustheid |",
              "|---|---|---|---|---|---|---|---|"]
    for c in context["conclusions"]:
        lines.append(f"| {_md(c['id'])} | {_md(c['text'])} | {_md(c['quantifier'])} | {_md(c['measured'])} | "
                     f"{_md(c['share_text'])} | {_md(c['supported_quantifier'] or '–')} | **{_md(c['verdict'])}** | "
                     f"{_md(c['robustness_label'] or '–')} |")
    lines.append("")
    for c in context["conclusions"]:
        lines += [f"## {_md(c['id'])}: {_md(c['text'])}", "",
                  f"- Code: `{_md(c['code'])}`"
                  + (f" ({_md(context['code_labels'][c['code']])})" if context["code_labels"].get(c["code"]) else "")
                  + (f", waardering {_md(c['valence_text'])}" if c["valence_text"] else ""),
                  f"- Populatie: {_md(c['population_label'])} ({c['n_population']})",
                  f"- Oordeel: **{_md(c['verdict'])}**: {_md(c['reason'])}"] + markdown_claim(c, _md)
        if c.get("note"):
            lines.append(f"- Toelichting: {_md(c['note'])}")
        lines.append("")
        for e in c["evidence"]:
            lines += [f"> {_md(e['text'])}", ">", f"> — {_md(e['who'])} ({_md(e['how'])})", ""]
    for category_view in context["categories"]:
        if not category_view["rows"]:
            continue
        plural = _md(context["region_plural"])
        lines += [f"## {category_view['name']} per aantal {plural}", "",
                  f"| code | label | {plural} | aandeel {plural} | respondenten | aandeel respondenten | fragmenten |",
                  "|---|---|---|---|---|---|---|"]
        for r in category_view["rows"]:
            lines.append(f"| `{_md(r['code'])}` | {_md(context['code_labels'].get(r['code'], ''))} | {r['n_regions']} | "
                         f"{r['share_regions']} | {r['n_respondents']} | {r['share_respondents']} | {r['n_fragments']} |")
        lines.append("")
    m = context["metrics"]
    if m:
        lines += ["## Kwaliteit van de codering (kruisvalidatie)", "",
                  "| systeem | micro P | micro R | micro F1 | macro F1 | kappa |", "|---|---|---|---|---|---|"]
        for row in m["summary"]:
            lines.append(f"| {row['system']} | {row.get('micro_precision', '–')} | {row.get('micro_recall', '–')} | "
                         f"{row.get('micro_f1', '–')} | {row.get('macro_f1', '–')} | {row.get('mean_kappa', '–')} |")
        lines.append("")
    agreement = context.get("agreement") or []
    if agreement:   # review (issue 6): intercoder agreement
        lines += ["## Overeenstemming tussen codeurs", "",
                  "Alfa ≥ 0,800: betrouwbaar; ≥ 0,667: voorlopig; lager: onbetrouwbaar.", "",
                  "| vergelijking | codeur | met | code | n | fragmenten | kappa | alfa | oordeel |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in agreement:
            lines.append(f"| {_md(r['comparison'])} | {_md(r['rater_a'])} | {_md(r['rater_b'])} | `{_md(r['code'])}` | "
                         f"{r['n']} | {r['n_fragments']} | {_fmt(r['kappa'])} | {_fmt(r['alpha'])} | "
                         f"{_md(r['interpretation'])} |")
        lines.append("")
    lines += _markdown_problems(context)
    lines += ["## Herkomst", ""] + [f"- {_md(k)}: {_md(v)}" for k, v in p.items()] + [f"- run: {_md(RUN_LOG_NOTE)}", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- database views

def _sql_list(values: Sequence[str]) -> str:
    """A SQL list literal of strings (quotes doubled); ``()`` when empty, which SQLite accepts."""
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"


_VALENCE_SQL = {
    # a respondent's valence of a code from its codings, as aggregate.unit_valence (params conclusions.valence)
    "all": """case when min(c.valence) = max(c.valence) and min(c.valence) in ('positief', 'negatief')
                        then min(c.valence) else 'gemengd' end""",
    "majority": """case when 2 * sum(c.valence = 'positief') > count(*) then 'positief'
                        when 2 * sum(c.valence = 'negatief') > count(*) then 'negatief'
                        else 'gemengd' end""",
    "any": """rtrim(case when sum(c.valence = 'positief') > 0 then 'positief+' else '' end
                         || case when sum(c.valence = 'negatief') > 0 then 'negatief+' else '' end
                         || case when sum(c.valence = 'gemengd') > 0 then 'gemengd+' else '' end, '+')""",
}


def views(outside: Sequence[str] = (), respondent_valence: str = "majority") -> dict[str, str]:
    """The views for the common questions, generated for a study: ``outside`` are the region values that are
    not in the population (study.yaml); ``respondent_valence`` the mode of params ``conclusions.valence``
    (majority, any, all), so the views agree with the aggregates and conclusions. Codes and their categories
    and valence come from the ``codes`` table."""
    if respondent_valence not in _VALENCE_SQL:
        raise ValueError(f"unknown valence mode '{respondent_valence}'; use {', '.join(_VALENCE_SQL)}.")
    out = _sql_list(outside)
    return {
        # every coding with its respondent, region and document: the base of the other views
        "v_coded_fragments": """
            select f.fragment_id, f.doc_id, d.doc_type, f.respondent_id, r.respondent_type,
                   coalesce(r.region, d.region) as region
            from fragments f join documents d on d.doc_id = f.doc_id
            left join respondents r on r.respondent_id = coalesce(f.respondent_id, d.respondent_id)""",
        # one row per respondent and code with valence, by the study's valence mode (majority: the valence of
        # more than half of its codings, else gemengd)
        "v_respondent_valence": f"""
            select c.code, g.respondent_id, g.respondent_type, g.region,
                   {_VALENCE_SQL[respondent_valence]} as valence,
                   count(*) as n_fragments
            from codings c join v_coded_fragments g on g.fragment_id = c.fragment_id
            join codes k on k.code = c.code
            where k.valence and g.respondent_id is not null and c.valence is not null and c.valence != 'onbekend'
            group by c.code, g.respondent_id""",
        # per code (with its category): how many regions of the population name it, and which
        "v_regions_per_code": f"""
            select c.code, k.category, k.label, count(distinct case when g.region not in {out} then g.region end)
                   as n_regions,
                   count(distinct g.respondent_id) as n_respondents, count(distinct c.fragment_id) as n_fragments,
                   group_concat(distinct case when g.region not in {out} then g.region end) as regions
            from codings c join v_coded_fragments g on g.fragment_id = c.fragment_id
            join codes k on k.code = c.code
            group by c.code order by k.category, n_regions desc, n_respondents desc, c.code""",
        # per code with valence and respondent type: respondents by their valence
        "v_valence_per_respondenttype": """
            select code, respondent_type, valence, count(*) as n_respondents
            from v_respondent_valence
            group by code, respondent_type, valence order by code, respondent_type, valence""",
        # codes per region: distinct respondents and documents
        "v_codes_per_regio": """
            select c.code, g.region, count(distinct g.respondent_id) as n_respondents,
                   count(distinct g.doc_id) as n_documents, count(distinct c.fragment_id) as n_fragments
            from codings c join v_coded_fragments g on g.fragment_id = c.fragment_id
            group by c.code, g.region order by c.code, g.region""",
        # the verdicts with their strongest evidence quote
        "v_conclusies": """
            select k.conclusion_id, k.verdict, k.quantifier, k.supported_quantifier, k.n_matching, k.n_population,
                   k.share, k.text, e.text as best_evidence, e.respondent_type, e.region, e.fragment_id
            from conclusions k left join conclusion_evidence e on e.conclusion_id = k.conclusion_id and e.rank = 1
            order by k.rowid""",
    }


VIEW_ORDER = ("v_coded_fragments", "v_respondent_valence", "v_regions_per_code",
              "v_valence_per_respondenttype", "v_codes_per_regio", "v_conclusies")


def code_rows(codebook: Any) -> list[dict[str, Any]]:
    """The ``codes`` table: every code of the codebook with its label, category and whether it has a valence."""
    return [{"code": c.id, "label": c.label, "category": c.category,
             "category_label": codebook.categories.get(c.category, c.category),
             "valence": c.id in codebook.valenced_codes} for c in codebook.codes]


def create_views(db: Any, outside: Sequence[str] = (), respondent_valence: str = "majority") -> list[str]:
    """Create the views for the common questions (those whose tables exist); returns their names."""
    tables = set(db.table_names())
    needs = {"v_conclusies": {"conclusions", "conclusion_evidence"}}
    definitions = views(outside, respondent_valence)
    made = []
    for name in VIEW_ORDER:
        required = needs.get(name, {"codings", "fragments", "documents", "respondents"})
        if name in ("v_respondent_valence", "v_regions_per_code", "v_valence_per_respondenttype"):
            required = required | {"codes"}
        if required <= tables:
            db.create_view(name, definitions[name].strip(), replace=True)
            made.append(name)
    return made


def write_report(html_path: str | Path, md_path: str | Path, context: dict[str, Any]) -> None:
    """Write report.html and report.md atomically."""
    from .jsonio import atomic_write_text

    atomic_write_text(html_path, render_html(context))
    atomic_write_text(md_path, render_markdown(context))
