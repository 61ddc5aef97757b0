"""Review decisions: the researcher's verdicts on machine codings, kept in ``codebook/reviews.jsonl``.

The decisions file is researcher input: append-only, one JSON object a line::

    {"time", "reviewer", "fragment_id", "text_hash", "text", "code", "valence", "decision", "memo"}

``decision`` is ``accept`` | ``reject`` | ``add`` | ``change_valence``. ``text_hash`` is
:func:`kwalitatief.segment.text_hash` of the fragment text when the decision was made, and ``text`` the
text itself, so that a decision whose fragment later changes can be reported with the words the reviewer saw.

Rules (documented in the README, section "Reviewing coded fragments"):

* Per reviewer, fragment and code the latest decision counts (by ``time``; equal times by line order).
* With several reviewers, the latest decision over all reviewers wins per fragment and code; the
  ``reviewer`` column of the codings says whose decision it was. Agreement between reviewers is computed
  from each reviewer's own latest decisions (:mod:`kwalitatief.agreement`).
* A human decision always overrides the machine: ``reject`` removes the coding, ``accept`` keeps it
  (also when the machine no longer proposes it), ``add`` creates it, ``change_valence`` sets the valence.
* A decision whose fragment no longer exists or whose text changed is *orphaned*: reported (with the old
  text) and not applied, but never removed from the file.
* Appending takes an exclusive lock on the file and fsyncs, so two reviewers saving at the same moment
  lose nothing; a torn last line (a crash mid-write) is reported and skipped, everything before it is kept.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .jsonio import dumps
from .segment import text_hash

DECISIONS = ("accept", "reject", "add", "change_valence")
MODES = ("review", "blind")   # blind: double coding for agreement only, never applied (see effective_decisions)
VALENCES = ("positief", "negatief", "gemengd")
STAGE = "review"
MAX_REVIEWER = 64
MAX_MEMO = 4000


class ReviewError(ValueError):
    """A decision cannot be written; the message says which field and what to do."""


@dataclass(frozen=True)
class Decision:
    """One line of the decisions file (``line`` is its 1-based line number, 0 when not from a file)."""

    time: str
    reviewer: str
    fragment_id: str
    text_hash: str
    code: str
    decision: str
    valence: str | None = None
    memo: str | None = None
    text: str | None = None
    line: int = 0
    mode: str = "review"

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        del row["line"]
        if row["mode"] == "review":     # the file's lines stay as they were; only blind lines say so
            del row["mode"]
        return row


def problem(severity: str, message: str, doc_id: str | None = None, detail: Any = None) -> dict[str, Any]:
    """A row of ``outputs/work/problems_review.jsonl``."""
    return {"stage": STAGE, "doc_id": doc_id, "severity": severity, "message": message, "detail": detail}


def now_utc() -> str:
    """The current time as ISO 8601 UTC with microseconds (sortable as text)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check(field: str, ok: bool, message: str) -> None:
    if not ok:
        raise ReviewError(f"decision field '{field}': {message}")


def make_decision(reviewer: str, fragment: dict[str, Any], code: str, decision: str,
                  valence: str | None = None, memo: str | None = None, time: str | None = None, *,
                  has_valence: bool, mode: str = "review") -> Decision:
    """A validated decision on ``code`` of ``fragment`` (a fragment row: fragment_id, text).

    ``has_valence``: whether the code carries a valence (its category declares it in the codebook)."""
    reviewer = (reviewer or "").strip()
    _check("reviewer", bool(reviewer), "give the reviewer's name (kwal review --reviewer NAME).")
    _check("reviewer", len(reviewer) <= MAX_REVIEWER and "\n" not in reviewer,
           f"at most {MAX_REVIEWER} characters on one line.")
    _check("decision", decision in DECISIONS, f"'{decision}' is not one of {', '.join(DECISIONS)}.")
    _check("code", bool(code) and isinstance(code, str), "give a code of the codebook.")
    if valence in ("", None):
        valence = None
    if has_valence:
        _check("valence", valence is None or valence in VALENCES,
               f"'{valence}' is not one of {', '.join(VALENCES)}.")
        _check("valence", decision != "change_valence" or valence is not None,
               "change_valence needs the new valence (positief, negatief or gemengd).")
    else:
        _check("valence", valence is None, f"code {code} has no valence (its category does not declare one).")
        _check("decision", decision != "change_valence", f"code {code} has no valence to change.")
    _check("mode", mode in MODES, f"'{mode}' is not one of {', '.join(MODES)}.")
    memo = (memo or "").strip() or None
    _check("memo", memo is None or len(memo) <= MAX_MEMO, f"at most {MAX_MEMO} characters.")
    text = fragment.get("text") or ""
    return Decision(time=time or now_utc(), reviewer=reviewer, fragment_id=fragment["fragment_id"],
                    text_hash=fragment.get("text_hash") or text_hash(text), code=code, decision=decision,
                    valence=valence, memo=memo, text=text, mode=mode)


def append_decision(path: str | Path, decision: Decision) -> None:
    """Append one decision under an exclusive lock and fsync it (safe for concurrent reviewers)."""
    append_decisions(path, [decision])


def append_decisions(path: str | Path, decisions: Sequence[Decision]) -> None:
    """Append decisions in one locked, fsynced write.

    If the file ends in a torn line (a crash in the middle of an earlier write), the new decisions start
    on a fresh line so that they are never glued to the broken one.
    """
    if not decisions:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = "".join(dumps(d.to_row()) + "\n" for d in decisions)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size:
                os.lseek(fd, size - 1, os.SEEK_SET)
                if os.read(fd, 1) != b"\n":
                    line = "\n" + line
            data = line.encode("utf-8")
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _parse(raw: str, where: str, line_no: int) -> tuple[Decision | None, str | None]:
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, (f"{where}:{line_no}: not valid JSON ({exc.msg}, column {exc.colno}; perhaps an interrupted "
                      "save)")
    if not isinstance(row, dict):
        return None, f"{where}:{line_no}: not a JSON object"
    for key in ("time", "reviewer", "fragment_id", "code", "decision"):
        if not isinstance(row.get(key), str) or not row.get(key):
            return None, f"{where}:{line_no}: field '{key}' is missing or empty"
    if row["decision"] not in DECISIONS:
        return None, f"{where}:{line_no}: field 'decision' is '{row['decision']}', not one of {', '.join(DECISIONS)}"
    valence = row.get("valence") or None
    if valence is not None and valence not in VALENCES:
        return None, f"{where}:{line_no}: field 'valence' is '{valence}', not one of {', '.join(VALENCES)}"
    if row["decision"] == "change_valence" and valence is None:
        return None, f"{where}:{line_no}: change_valence without a valence"
    mode = row.get("mode") or "review"
    if mode not in MODES:
        return None, f"{where}:{line_no}: field 'mode' is '{mode}', not one of {', '.join(MODES)}"
    return Decision(time=row["time"], reviewer=row["reviewer"].strip(), fragment_id=row["fragment_id"],
                    text_hash=row.get("text_hash") or "", code=row["code"], decision=row["decision"],
                    valence=valence, memo=row.get("memo") or None, text=row.get("text"), line=line_no,
                    mode=mode), None


def read_decisions(path: str | Path, redact: Callable[[str], str | None] | None = None
                   ) -> tuple[list[Decision], list[dict[str, Any]]]:
    """All readable decisions of the file, in file order, and the problems (malformed or torn lines).

    A problem quotes the line as ``redact(line)`` (pseudonymised with the project's key), then cut.

    A missing file means no decisions. A last line without its newline that does not parse is a torn
    write: reported and skipped. Other malformed lines are reported with their line number and skipped;
    nothing before or after them is lost.
    """
    path = Path(path)
    if not path.exists():
        return [], []
    data = path.read_bytes()
    decisions: list[Decision] = []
    problems: list[dict[str, Any]] = []
    lines = data.split(b"\n")
    torn_candidate = not data.endswith(b"\n")
    for index, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
        decision, error = _parse(text, str(path), index)
        if decision is not None:
            decisions.append(decision)
            continue
        if torn_candidate and index == len(lines):
            problems.append(problem("warning", f"{path}:{index}: the last line is incomplete (a save was "
                                               "interrupted); it is skipped, all decisions before it are kept. "
                                               "Redo that decision in kwal review.", detail={"line": index,
                                                                                             "text": (redact or str)(text)[:200]}))
        else:
            problems.append(problem("error", f"{error}; the line is skipped. Correct it by hand (the file is "
                                             "append-only: fix the line, never delete others).",
                                    detail={"line": index, "text": (redact or str)(text)[:200]}))
    return decisions, problems


def _order_key(decision: Decision) -> tuple[str, int]:
    return decision.time, decision.line


def latest_per_reviewer(decisions: Iterable[Decision]) -> dict[tuple[str, str, str], Decision]:
    """(reviewer, fragment_id, code) -> that reviewer's latest decision."""
    latest: dict[tuple[str, str, str], Decision] = {}
    for d in sorted(decisions, key=_order_key):
        latest[(d.reviewer, d.fragment_id, d.code)] = d
    return latest


def effective_decisions(decisions: Iterable[Decision]) -> dict[tuple[str, str], Decision]:
    """(fragment_id, code) -> the decision that counts: the latest over all reviewers, in review mode.

    Blind decisions (``kwal review --blind``) are agreement data only: they never change the codings. The
    team adjudicates a disagreement by an explicit decision in the normal review mode, which counts."""
    effective: dict[tuple[str, str], Decision] = {}
    for d in sorted(latest_per_reviewer(d for d in decisions if d.mode == "review").values(), key=_order_key):
        effective[(d.fragment_id, d.code)] = d
    return effective


def _snippet(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_orphans(decisions: Sequence[Decision], fragments: Iterable[dict[str, Any]], where: str = "codebook/reviews.jsonl"
                  ) -> tuple[list[Decision], list[dict[str, Any]]]:
    """Decisions whose fragment still exists with the same text, and a problem for every orphan."""
    by_id = {f["fragment_id"]: f for f in fragments}
    kept: list[Decision] = []
    problems: list[dict[str, Any]] = []
    for d in decisions:
        frag = by_id.get(d.fragment_id)
        current = None if frag is None else (frag.get("text_hash") or text_hash(frag.get("text") or ""))
        if frag is not None and (not d.text_hash or d.text_hash == current):
            kept.append(d)
            continue
        doc_id = d.fragment_id.rsplit("-", 1)[0] if "-" in d.fragment_id else None
        why = "no longer exists" if frag is None else "has a different text now"
        problems.append(problem(
            "warning",
            f"{where}:{d.line}: orphaned decision ({d.decision} {d.code} by {d.reviewer}, {d.time}): fragment "
            f"{d.fragment_id} {why} (its document changed). Old text: \"{_snippet(d.text) or '(not recorded)'}\". "
            "The decision is kept in the file but not applied; review the fragment again if it still matters.",
            doc_id, {"line": d.line, "fragment_id": d.fragment_id, "code": d.code, "decision": d.decision,
                     "reviewer": d.reviewer, "time": d.time, "old_text": d.text,
                     "current_text": frag.get("text") if frag else None}))
    return kept, problems


def apply_decisions(merged_codings: Iterable[dict[str, Any]], fragments: Sequence[dict[str, Any]],
                    decisions: Sequence[Decision], codes: Iterable[str] | None = None,
                    where: str = "codebook/reviews.jsonl") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The merged codings with the human decisions applied, and the problems (orphans, unknown codes).

    Per (fragment, code) the latest decision over all reviewers counts: ``reject`` removes the coding;
    ``accept`` marks it accepted (re-creating it with ``sources`` "review" when the machine no longer
    proposes it); ``add`` creates it (status "added"; a machine coding that exists is marked accepted);
    ``change_valence`` sets the valence (status "valence_changed"). Rows are sorted by fragment and code.
    """
    rows = [dict(r) for r in merged_codings]
    live, problems = split_orphans(decisions, fragments, where)
    known = set(codes) if codes is not None else None
    if known is not None:
        usable = []
        for d in live:
            if d.code in known:
                usable.append(d)
            else:
                problems.append(problem("warning", f"{where}:{d.line}: code '{d.code}' is not in the codebook (any "
                                                   "more); the decision is kept in the file but not applied.",
                                        None, {"line": d.line, "code": d.code, "fragment_id": d.fragment_id}))
        live = usable
    effective = effective_decisions(live)
    versions = sorted({r.get("codebook_version") for r in rows if r.get("codebook_version")})
    by_key = {(r["fragment_id"], r["code"]): r for r in rows}
    out: list[dict[str, Any]] = []
    for key, row in by_key.items():
        d = effective.get(key)
        if d is None:
            out.append(row)
            continue
        if d.decision == "reject":
            continue
        row = {**row, "reviewer": d.reviewer}
        if d.decision == "change_valence":
            row.update(valence=d.valence, status="valence_changed")
        else:
            row["status"] = "accepted"
            if d.valence:
                row["valence"] = d.valence
        out.append(row)
    for key, d in effective.items():
        if key in by_key or d.decision == "reject":
            continue
        out.append({"fragment_id": key[0], "code": key[1], "valence": d.valence, "sources": "review",
                    "rule_id": None, "evidence": None, "start": None, "end": None, "score": None,
                    "status": {"add": "added", "accept": "accepted"}.get(d.decision, "valence_changed"),
                    "reviewer": d.reviewer, "codebook_version": versions[-1] if versions else None,
                    "model_version": None})
    out.sort(key=lambda r: (r["fragment_id"], r["code"]))
    return out, problems


def apply_project(merged_codings: Iterable[dict[str, Any]], root: str | Path = ".",
                  codes: Iterable[str] | None = None, fragments: Sequence[dict[str, Any]] | None = None,
                  decisions: tuple[list[Decision], list[dict[str, Any]]] | None = None
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What the classify stage calls: read the project's decisions (unless given, as
    :func:`project_decisions` returns them) and fragments (unless given) and apply them."""
    from . import paths
    from .jsonio import read_jsonl

    root = Path(root)
    found, problems = decisions if decisions is not None else project_decisions(root)
    if fragments is None:
        fragments = list(read_jsonl(root / paths.FRAGMENTS, drop=("tokens", "sents")))
    rows, apply_problems = apply_decisions(merged_codings, fragments, found, codes, str(paths.REVIEWS))
    return rows, problems + apply_problems


def project_decisions(root: str | Path = ".") -> tuple[list[Decision], list[dict[str, Any]]]:
    """The project's review decisions (``codebook/reviews.jsonl``) and the problems of reading them."""
    from dataclasses import replace

    from . import paths
    from .keyscan import project_redactor

    root = Path(root)
    # a decision's text may hold a name the detector missed then: orphan reports (and a malformed line)
    # quote it pseudonymised, before it is cut to a snippet
    redactor = project_redactor(root)
    decisions, problems = read_decisions(root / paths.REVIEWS, redactor.redact)
    decisions = [replace(d, text=redactor.redact(d.text, d.fragment_id.rsplit("-", 1)[0])) for d in decisions]
    return decisions, problems


def training_labels(path: str | Path, fragments: Sequence[dict[str, Any]]) -> list[Any]:
    """Classifier labels from the decisions (see :func:`kwalitatief.classify.review_labels`).

    The effective decision per fragment and code of fragments that still exist: accept, add and
    change_valence mean the code is present (with its valence), reject that it is absent.
    """
    from .classifier.examples import LabelRow

    decisions, _ = read_decisions(path)
    live, _ = split_orphans(decisions, fragments, str(path))
    labels = []
    for (fid, code), d in sorted(effective_decisions(live).items()):
        labels.append(LabelRow(fid, code, d.decision != "reject", d.valence, f"{path}:{d.line}"))
    return labels


def status_of(decision: Decision | None) -> str:
    """The review status a decision gives a coding (for the review page and the queue filters)."""
    if decision is None:
        return "unreviewed"
    return {"accept": "accepted", "reject": "rejected", "add": "added",
            "change_valence": "valence_changed"}[decision.decision]
