"""The one code path of the pipeline (stage ``code``) and of ``kwal code-file``.

Stable interface (the classifier plugs into it):

- :func:`get_coder` ``(codebook, nlp) -> RuleCoder``: matchers compiled once per (codebook, pipeline).
- :func:`code_fragments` ``(fragments, codebook, nlp, model=None, contexts=None) -> list[list[dict]]``:
  fragments are pipeline rows with ``text``, ``tokens`` [[offset, length, lemma]] and ``sents``; they are
  matched on the stored tokens (no pipeline run). Returns, per fragment, its coding rows
  ``{code, valence, source, rule_id, evidence, start, end, score}`` (rule rows first, then the model's).
- :func:`code_texts` ``(texts, codebook, nlp, model=None, contexts=None)``: the same for raw texts
  (tokenised here with ``nlp``, then exactly the same path).
- ``model``: any object with ``predict_fragments(fragments) -> list[list[dict]]`` returning rows of the
  same shape with ``source: "classifier"`` and a ``score``; ``None`` means rules only. A model with
  ``wants_rule_rows = True`` is called as ``predict_fragments(fragments, rule_rows)``; one with
  ``merge_rows(rows)`` gets each fragment's rule + model rows to merge (one row per code).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from spacy.language import Language

from .codebook import Codebook
from .nlp import token_rows
from .rules import RuleCoder


class FragmentModel(Protocol):
    def predict_fragments(self, fragments: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]: ...


_CODERS: dict[tuple[int, str, int], RuleCoder] = {}


def get_coder(codebook: Codebook, nlp: Language) -> RuleCoder:
    """The compiled rule coder for this codebook and pipeline (cached: compile once)."""
    key = (id(codebook), codebook.version, id(nlp))
    if key not in _CODERS:
        _CODERS[key] = RuleCoder(codebook, nlp)
    return _CODERS[key]


def tokenise(texts: Iterable[str], nlp: Language, batch_size: int = 256) -> list[dict[str, Any]]:
    """Raw texts as fragment-like rows (text, tokens, sents) — what the segment stage stores."""
    rows = []
    for text, doc in zip(texts, nlp.pipe(texts, batch_size=batch_size)):
        tokens, sents = token_rows(doc)
        rows.append({"text": text, "tokens": tokens, "sents": sents})
    return rows


def rule_codes(fragment: dict[str, Any], coder: RuleCoder, context: dict[str, Any] | None = None) -> list[dict]:
    """Rule coding rows of one fragment row (text, tokens, sents)."""
    tokens = fragment.get("tokens") or []
    if not tokens:
        return []
    question = None
    if context and context.get("tokens"):
        question = (context["text"], context["tokens"], context.get("sents") or [0])
    return coder.code(fragment["text"], tokens, fragment.get("sents") or [0], question)


def code_fragments(fragments: Sequence[dict[str, Any]], codebook: Codebook, nlp: Language,
                   model: FragmentModel | None = None,
                   contexts: Sequence[dict[str, Any] | None] | None = None) -> list[list[dict[str, Any]]]:
    """Coding rows for each fragment (rules, then the model's rows if a model is given)."""
    coder = get_coder(codebook, nlp)
    contexts = contexts or [None] * len(fragments)
    results = [rule_codes(f, coder, c) for f, c in zip(fragments, contexts)]
    if model is not None:
        # a model that uses the rule hits as features (classify.Model) also gets the rule rows
        predicted = (model.predict_fragments(fragments, results) if getattr(model, "wants_rule_rows", False)
                     else model.predict_fragments(fragments))
        for rows, extra in zip(results, predicted):
            rows.extend(extra)
        merge = getattr(model, "merge_rows", None)      # classify.CodingModel: one merged row per code
        if merge is not None:
            results = [merge(rows) for rows in results]
    return results


def code_texts(texts: Sequence[str], codebook: Codebook, nlp: Language, model: FragmentModel | None = None,
               contexts: Sequence[str | None] | None = None) -> list[list[dict[str, Any]]]:
    """Code raw texts by the same path as the pipeline (tokenise, rebuild Docs from rows, match)."""
    fragments = tokenise(list(texts), nlp)
    ctx_rows: list[dict[str, Any] | None] | None = None
    if contexts:
        present = [c for c in contexts if c]
        parsed = iter(tokenise(present, nlp))
        ctx_rows = [next(parsed) if c else None for c in contexts]
    return code_fragments(fragments, codebook, nlp, model, ctx_rows)


def code_file(in_path: str, out_path: str, codebook: Codebook, nlp: Language,
              model: FragmentModel | None = None) -> tuple[int, list[str]]:
    """``kwal code-file``: code ``{"id", "text"}`` lines; returns (fragments coded, problems by line).

    A malformed line is reported with its line number and skipped; the other lines are still coded.
    Output lines: ``{"id", "codes": [{code, valence (codes with valence only), source, score, evidence, rule_id,
    start, end}]}`` in input order.
    """
    import json

    from .jsonio import write_jsonl

    items: list[tuple[Any, str]] = []
    problems: list[str] = []
    with open(in_path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{in_path}:{number}: not valid JSON ({exc.msg}); line skipped. "
                                "Hint: one object per line, e.g. {\"id\": \"f1\", \"text\": \"...\"}.")
                continue
            if not isinstance(obj, dict) or "id" not in obj or not isinstance(obj.get("text"), str):
                problems.append(f"{in_path}:{number}: expected an object with 'id' and a string 'text'; "
                                "line skipped.")
                continue
            items.append((obj["id"], obj["text"]))
    results = code_texts([t for _, t in items], codebook, nlp, model)
    out = []
    for (item_id, _), rows in zip(items, results):
        codes = []
        for row in rows:
            entry = {k: row.get(k) for k in ("code", "source", "score", "evidence", "rule_id", "start", "end")}
            if codebook.has_valence(row["code"]):
                entry["valence"] = row.get("valence")
            codes.append(entry)
        out.append({"id": item_id, "codes": codes})
    write_jsonl(out_path, out)
    return len(out), problems


def previous_questions(fragments: Sequence[dict[str, Any]],
                       codable: Sequence[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """For each codable fragment, the last interviewer fragment before it in the same document (or None).

    Used only to find the topic of a code with valence when the answer does not name it ("Wat vindt u daarvan?").
    """
    last: dict[tuple[str, int], dict[str, Any] | None] = {}
    current: dict[str, dict[str, Any] | None] = {}
    for frag in sorted(fragments, key=lambda f: (f["doc_id"], f.get("seq", 0))):
        if frag.get("role") == "interviewer":
            current[frag["doc_id"]] = frag
        elif frag.get("role") == "tekst" or frag.get("role") == "kop":
            current[frag["doc_id"]] = None
        last[(frag["doc_id"], frag.get("seq", 0))] = current.get(frag["doc_id"])
    return [last.get((f["doc_id"], f.get("seq", 0))) for f in codable]


# --------------------------------------------------------------------------------------------
# The corpus: per document, cached, in parallel (stage ``code``)
# --------------------------------------------------------------------------------------------

def _slim(fragment: dict[str, Any] | None) -> dict[str, Any] | None:
    """What rule coding reads of a fragment (so the cache key and the worker payload stay small)."""
    if fragment is None:
        return None
    return {"fragment_id": fragment.get("fragment_id"), "text": fragment["text"],
            "tokens": fragment.get("tokens") or [], "sents": fragment.get("sents") or [0]}


def _code_group(job: tuple[tuple[Codebook, str], list[bytes]]) -> list[list[list[dict[str, Any]]]]:
    """Code a group of documents; each is ``[fragments, contexts]`` as JSON bytes (cheap to send to a
    worker process: pickling millions of small token lists cost more than the coding itself)."""
    import orjson

    from .nlp import load_nlp

    (codebook, model), payloads = job
    nlp = load_nlp(model)
    out = []
    for payload in payloads:
        frags, ctx = orjson.loads(payload)
        out.append(code_fragments(frags, codebook, nlp, contexts=ctx))
    return out


def code_corpus(fragments: Sequence[dict[str, Any]], codebook: Codebook, model: str,
                question_context: bool = True, workers: int | None = 1, cache_dir: Any = None,
                executor: str = "process") -> tuple[list[list[dict[str, Any]]], dict[str, int]]:
    """Rule coding rows for every codable fragment (in order), per document cached and in parallel.

    A document's codings are reused when its fragments (text, tokens), the codebook (its ``version``
    covers the lexicon), the pipeline and the coding code are unchanged (:func:`code_documents`).
    Returns (rows per codable fragment, {cache_hits, cache_misses}).
    """
    import hashlib

    import orjson

    by_doc: dict[str, list[dict[str, Any]]] = {}
    for frag in fragments:
        by_doc.setdefault(frag["doc_id"], []).append(frag)
    jobs = []
    for doc_id, frags in by_doc.items():
        content = orjson.dumps([_slim(f) | {"role": f.get("role"), "seq": f.get("seq"), "codable": f.get("codable")}
                                for f in frags])
        jobs.append((doc_id, hashlib.sha256(content).hexdigest(), lambda frags=frags: frags))
    coded, stats = code_documents(jobs, codebook, model, question_context, workers, cache_dir, executor)
    position = {id(f): i for i, f in enumerate(f for f in fragments if f.get("codable"))}
    results: list[list[dict[str, Any]]] = [[] for _ in position]
    for doc_id, frags in by_doc.items():
        for frag, rows in zip([f for f in frags if f.get("codable")], coded[doc_id]["rows"]):
            results[position[id(frag)]] = rows
    return results, stats


def code_documents(jobs: Sequence[tuple[str, str, Any]], codebook: Codebook, model: str,
                   question_context: bool = True, workers: int | None = 1, cache_dir: Any = None,
                   executor: str = "process") -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Rule coding per document, cached and in parallel.

    ``jobs`` are ``(doc_id, content_key, load)``: ``content_key`` determines the document's fragments (their
    hash, or the segment cache's key of the document), ``load()`` returns them (all of the document's
    fragments with tokens, in order) and is called only when the document must be coded. A document's codings
    are reused when its content key, the codebook (its ``version`` covers the lexicon), the pipeline and
    the coding code are unchanged. Returns ({doc_id: {"ids": codable fragment ids, "rows": coding rows per
    codable fragment, "untokenised": codable fragment ids without tokens (not coded)}}, {cache_hits, cache_misses}).
    """
    import sys

    import orjson

    from . import codebook as codebook_module
    from . import rules as rules_module
    from .cache import DocumentCache, dict_with, source_fingerprint
    from .nlp import installed_model_name, load_nlp
    from .parallel import map_groups

    code = source_fingerprint(sys.modules[__name__], rules_module, codebook_module)
    resolved = installed_model_name(model)   # the pipeline itself loads only if a document is new
    cache = DocumentCache(cache_dir, "code", shape=dict_with(ids=list, rows=list))
    results: dict[str, dict[str, Any]] = {}
    todo: list[tuple[str, str, tuple[list[str], list[str]], bytes]] = []   # (ids, untokenised ids): no rows kept
    for doc_id, content_key, load in jobs:
        key = cache.key(content_key, codebook.version, resolved, code, question_context)
        hit = cache.get(key, check=lambda value: len(value["ids"]) == len(value["rows"]))
        if hit is not None:
            results[doc_id] = hit
            continue
        fragments = load()
        codable = [f for f in fragments if f.get("codable")]
        contexts = previous_questions(fragments, codable) if question_context else [None] * len(codable)
        payload = orjson.dumps([[_slim(f) for f in codable], [_slim(c) for c in contexts]])
        todo.append((doc_id, key, ([f["fragment_id"] for f in codable],
                                   [f["fragment_id"] for f in codable if not f.get("tokens")]), payload))
    if len(todo) > 1:
        load_nlp(model)   # once, before the workers fork (they share it)
    payloads = [payload for *_, payload in todo]
    outputs = map_groups(_code_group, (codebook, model), payloads, [len(p) for p in payloads], workers, executor)
    for (doc_id, key, (ids, untokenised), _), rows in zip(todo, outputs):
        results[doc_id] = {"ids": ids, "rows": rows, "untokenised": untokenised}
        cache.put(key, results[doc_id])
    return results, {"cache_hits": cache.hits, "cache_misses": cache.misses}
