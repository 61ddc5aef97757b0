"""Reuse across runs: a model trained on exactly the same inputs, and the classifier codings of every
document whose fragments and rule hits did not change (the others are coded in parallel)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .examples import Example, training_data_hash
from .model import Model, clear_memory_addresses
from .settings import FORMAT_VERSION, settings
from .training import model_settings, train

log = logging.getLogger("kwalitatief.classify")


def training_modules() -> tuple[Any, ...]:
    """The modules whose source a trained model depends on (their fingerprint is part of cache keys)."""
    from . import cues, embedding, examples, features, model, settings as settings_module, thresholds, training

    return (settings_module, examples, cues, embedding, features, thresholds, training, model)


def _training_key(examples: Sequence[Example], codes: Sequence[str], cfg: dict[str, Any], codebook_version: str,
                  rule_hits: dict[str, set[str]] | None) -> str:
    """What a trained model depends on: data, labels, rule hits of the examples, settings, code, sklearn."""
    import sklearn

    from ..cache import DocumentCache, source_fingerprint

    examples = sorted(examples, key=lambda e: e.fragment_id)
    hits = [sorted((rule_hits or {}).get(e.fragment_id, ())) for e in examples] if rule_hits is not None else None
    return DocumentCache.key(FORMAT_VERSION, sklearn.__version__, source_fingerprint(*training_modules()),
                             codebook_version, list(codes), model_settings(cfg), training_data_hash(examples),
                             [[e.fragment_id, sorted(e.origins)] for e in examples], hits)


def train_cached(examples: Sequence[Example], codes: Sequence[str], params: dict[str, Any] | None,
                 codebook_version: str, rule_hits: dict[str, set[str]] | None,
                 cache_dir: str | Path | None, cues: Any = None
                 ) -> tuple[Model, list[dict[str, Any]], Path | None, bool]:
    """:func:`train`, or the model trained earlier on exactly the same inputs.

    Returns the model, its problems, (with ``cache_dir``) the cached model file, whose bytes
    :func:`save_model` copies so that ``outputs/model/model.joblib`` is the same file either way, and
    whether the model was reused.
    """
    import joblib

    from ..jsonio import read_json, write_json

    cfg = settings(params)
    if cache_dir is None:
        return (*train(examples, codes, params, codebook_version, rule_hits, cues), None, False)
    key = _training_key(examples, codes, cfg, codebook_version, rule_hits)
    path = Path(cache_dir) / "classify" / f"model-{key}.joblib"
    problems_path = path.with_suffix(".problems.json")
    if path.exists() and problems_path.exists():
        try:
            model = joblib.load(path)
            if isinstance(model, Model):
                return model, read_json(problems_path), path, True
        except Exception:  # noqa: BLE001 - a broken cache entry is retrained
            log.warning("cached model %s is unreadable; training again", path)
    model, problems = train(examples, codes, params, codebook_version, rule_hits, cues)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    clear_memory_addresses(model)
    joblib.dump(model, tmp)
    tmp.replace(path)
    write_json(problems_path, problems)
    return model, problems, path, False


def standalone_cached(texts: Sequence[Any], codebook: Any, model: str, cache_dir: str | Path | None
                      ) -> tuple[list[Example], dict[str, set[str]]]:
    """:func:`standalone.standalone_examples` of ``texts`` (lemmas by the spaCy pipeline ``model``), or
    the examples made earlier from the same texts, codebook, pipeline and code: the pipeline is then not
    even loaded (seconds for every run of the classify stage otherwise)."""
    from dataclasses import asdict

    from ..cache import DocumentCache, dict_with, package_versions, source_fingerprint
    from . import standalone

    cache = DocumentCache(cache_dir, "classify_standalone", shape=dict_with(examples=list, hits=dict))
    # the pipeline: the model's package if installed (else the blank fallback), spaCy and its lookup tables
    pipeline = [model, *package_versions(model, "spacy", "spacy-lookups-data")] if model else [model]
    key = cache.key(FORMAT_VERSION, source_fingerprint(standalone, "kwalitatief.coding", "kwalitatief.rules",
                                                       "kwalitatief.nlp"),
                    pipeline, codebook.version, [asdict(t) for t in texts])
    hit = cache.get(key)
    if hit is not None:
        try:
            return [Example(**e) for e in hit["examples"]], {fid: set(c) for fid, c in hit["hits"].items()}
        except TypeError:   # an entry of another Example layout: made again
            log.warning("cached free-standing training examples are of another layout; making them again")
    from .. import nlp as nlp_module

    examples, hits = standalone.standalone_examples(texts, codebook, nlp_module.load_nlp(model))
    cache.put(key, {"examples": [asdict(e) for e in examples], "hits": {fid: sorted(c) for fid, c in hits.items()}})
    return examples, hits


def rule_hits_by_fragment(rule_rows: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """fragment id -> the codes the rules gave it."""
    hits: dict[str, set[str]] = {}
    for row in rule_rows:
        hits.setdefault(row["fragment_id"], set()).add(row["code"])
    return hits


def classifier_rows(model: Model, fragments: Sequence[dict[str, Any]],
                    rule_hits: dict[str, set[str]] | None = None) -> list[dict[str, Any]]:
    """The classifier's codings of pipeline fragments (rows of ``codings_classifier.jsonl``)."""
    rule_rows = [[{"code": c} for c in sorted((rule_hits or {}).get(f["fragment_id"], ()))] for f in fragments]
    rows = []
    for frag, preds in zip(fragments, model.predict_fragments(fragments, rule_rows)):
        rows.extend({"fragment_id": frag["fragment_id"], **row} for row in preds)
    return rows


def _slim_fragment(frag: dict[str, Any]) -> dict[str, Any]:
    return {"fragment_id": frag["fragment_id"], "doc_id": frag.get("doc_id"), "text": frag["text"],
            "lemmas": frag.get("lemmas")}


def _classify_group(job: tuple[Model, list[tuple[list[dict[str, Any]], dict[str, set[str]]]]]
                    ) -> list[list[dict[str, Any]]]:
    """The classifier rows of each document of a group, predicted in one batch: scikit-learn's checks per
    call made 800 calls of a few fragments three times slower than one call (rows do not depend on the
    batch: every fragment is featurised and scored on its own)."""
    model, docs = job
    hits: dict[str, set[str]] = {}
    for _, doc_hits in docs:
        hits.update(doc_hits)
    rows_of: dict[str, list[dict[str, Any]]] = {}
    for row in classifier_rows(model, [f for frags, _ in docs for f in frags], hits):
        rows_of.setdefault(row["fragment_id"], []).append(row)
    return [[row for f in frags for row in rows_of.get(f["fragment_id"], ())] for frags, _ in docs]


def classify_documents(model: Model, fragments: Sequence[dict[str, Any]], rule_hits: dict[str, set[str]],
                       workers: int | None = 1, cache_dir: str | Path | None = None,
                       executor: str = "process") -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The classifier codings of ``fragments``, per document cached and in parallel (same rows as
    :func:`classifier_rows` on all of them at once). Returns (rows, {documents_reused, documents_coded})."""
    from ..cache import DocumentCache, list_of
    from ..parallel import map_groups

    cache = DocumentCache(cache_dir, "classify", shape=list_of(lambda row: isinstance(row, dict)))
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for frag in fragments:
        by_doc.setdefault(frag.get("doc_id") or "", []).append(_slim_fragment(frag))
    results: dict[str, list[dict[str, Any]]] = {}
    todo: list[tuple[str, str, list[dict[str, Any]], dict[str, set[str]]]] = []
    for doc_id, frags in by_doc.items():
        hits = {f["fragment_id"]: rule_hits[f["fragment_id"]] for f in frags if f["fragment_id"] in rule_hits}
        key = cache.key(model.version, frags, sorted((fid, sorted(h)) for fid, h in hits.items()))
        cached = cache.get(key)
        if cached is not None:
            results[doc_id] = cached
        else:
            todo.append((doc_id, key, frags, hits))
    sizes = [sum(len(f["text"]) for f in frags) for _, _, frags, _ in todo]
    coded = map_groups(_classify_group, model, [job[2:] for job in todo], sizes, workers, executor)
    for (doc_id, key, _, _), rows in zip(todo, coded):
        cache.put(key, rows)
        results[doc_id] = rows
    out = [row for doc_id in by_doc for row in results[doc_id]]
    return out, {"documents_reused": cache.hits, "documents_coded": cache.misses}
