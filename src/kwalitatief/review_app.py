"""``kwal review``: a local web page for reviewing coded fragments (standard library HTTP server).

The page reads the pipeline's database (``outputs/kwalitatief.db``: fragments, documents, respondents,
merged and machine codings), the codebook and the classifier's thresholds (``outputs/model/model.json``),
and the current decisions file; it writes decisions ONLY through :mod:`kwalitatief.review`.

Security: bound to 127.0.0.1; every request must carry a Host of 127.0.0.1/localhost with our port (no
DNS rebinding); state-changing requests are POST with a JSON body, the per-session CSRF token in the
``X-CSRF-Token`` header and, when the browser sends one, a matching ``Origin``. All text is HTML-escaped
by the templates (Jinja2 autoescape); a strict Content-Security-Policy allows only our own script and style.
"""

from __future__ import annotations

import difflib
import fcntl
import hmac
import json
import logging
import math
import mimetypes
import os
import random
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import review

log = logging.getLogger("kwalitatief.review_app")

CONTEXT_BEFORE = 2
CONTEXT_AFTER = 2
CONTEXT_CHARS = 320
FILTERS = ("code", "region", "rtype", "doc", "source", "status")
ORDERS = ("document", "uncertain")
STATUS_LABELS = {"unreviewed": "niet beoordeeld", "accepted": "geaccepteerd", "rejected": "afgewezen",
                 "added": "toegevoegd", "valence_changed": "waardering aangepast", "coded": "gecodeerd",
                 "annotated": "geannoteerd"}
SOURCE_LABELS = {"rule": "regel", "classifier": "classifier", "rule+classifier": "regel + classifier",
                 "review": "beoordelaar", "annotation": "annotatie"}
MAX_BODY = 64 * 1024
REQUEST_QUEUE_SIZE = 128   # connections waiting to be accepted (the default of 5 reset simultaneous reviewers)
REQUEST_TIMEOUT = 30       # seconds a client may take to send its request (a too short body never blocks us)
STALE_FRAGMENT = ("Dit fragment staat niet (meer) in de huidige uitvoer: de pipeline is opnieuw gedraaid nadat "
                  "deze pagina werd geladen. Uw beslissing is niet opgeslagen. Laad de pagina opnieuw (F5).")



def _features(value: Any) -> list[str]:
    """The classifier's driving features of a coding (stored as JSON text in ``codings_machine``)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [str(v) for v in value] if isinstance(value, list) else []

class ReviewAppError(Exception):
    """The review page cannot start; the message says what is missing and what to do."""


class StaleFragmentError(review.ReviewError):
    """A decision on a fragment the current outputs no longer hold (the pipeline ran again meanwhile)."""


@dataclass
class Item:
    """One entry of the queue: a coding (fragment, code), or in blind mode a fragment (code None)."""

    fragment_id: str
    code: str | None
    doc_id: str
    seq: int
    region: str
    rtype: str
    source: str
    score: float | None
    uncertainty: float


@dataclass
class ReviewState:
    """Everything the page shows, loaded once; the decisions file is re-read when it changes."""

    root: Path
    reviewer: str
    blind: bool = False
    sample_size: int = 40
    seed: int = 13
    db_path: Path | None = None
    fragments: dict[str, dict[str, Any]] = field(default_factory=dict)
    doc_order: dict[str, list[str]] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    respondents: dict[str, dict[str, Any]] = field(default_factory=dict)
    merged: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    machine: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    codes: dict[str, Any] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    valenced: frozenset[str] = frozenset()
    thresholds: dict[str, float] = field(default_factory=dict)
    sample: list[str] = field(default_factory=list)
    _decisions: list[review.Decision] = field(default_factory=list)
    _stamp: tuple[int, int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _db_stamp: tuple[int, int, int] | None = None
    _current_ids: frozenset[str] | None = None

    # ------------------------------------------------------------------ loading
    def load(self, params: dict[str, Any] | None = None) -> None:
        from . import paths
        from .classify import codebook_path
        from .codebook import CodebookError, load_codebook

        db_path = self.database
        if not db_path.exists():
            raise ReviewAppError(f"{db_path}: not found; run the pipeline first (make run), then kwal review.")
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
            if "codings" not in tables:
                raise ReviewAppError(f"{db_path}: has no codings table; run the whole pipeline (make run).")
            for row in conn.execute("select * from fragments order by doc_id, seq"):
                f = dict(row)
                self.fragments[f["fragment_id"]] = f
                self.doc_order.setdefault(f["doc_id"], []).append(f["fragment_id"])
            self.documents = {r["doc_id"]: dict(r) for r in conn.execute("select * from documents")}
            self.respondents = {r["respondent_id"]: dict(r) for r in conn.execute("select * from respondents")}
            for row in conn.execute("select * from codings"):
                self.merged[(row["fragment_id"], row["code"])] = dict(row)
            if "codings_machine" in tables:
                for row in conn.execute("select * from codings_machine"):
                    self.machine.setdefault((row["fragment_id"], row["code"]), {})[row["source"]] = dict(row)
        finally:
            conn.close()
        self._db_stamp, self._current_ids = _file_stamp(db_path), frozenset(self.fragments)
        try:
            codebook = load_codebook(self.root / codebook_path(params))
            self.codes = {c.id: c for c in codebook.codes}
            self.categories = dict(codebook.categories)
            self.valenced = codebook.valenced_codes
        except CodebookError as exc:
            raise ReviewAppError(f"the codebook has errors (run 'kwal check'):\n{exc}") from exc
        meta = self.root / paths.MODEL_DIR / "model.json"
        if meta.exists():
            self.thresholds = {k: float(v) for k, v in (json.loads(meta.read_text("utf-8")).get("thresholds")
                                                        or {}).items()}
        if self.blind:
            codable = sorted(fid for fid, f in self.fragments.items() if f.get("codable"))
            rng = random.Random(self.seed)
            self.sample = sorted(rng.sample(codable, min(self.sample_size, len(codable))),
                                 key=lambda fid: (self.fragments[fid]["doc_id"], self.fragments[fid]["seq"]))

    @property
    def database(self) -> Path:
        from . import paths

        return self.db_path or self.root / paths.DATABASE

    def current_fragment_ids(self) -> frozenset[str] | None:
        """The fragment ids of the database on disk now (re-read when the file changed since the page loaded
        it, e.g. by a rerun of the pipeline); None while it cannot be read (being rebuilt)."""
        with self._lock:
            stamp = _file_stamp(self.database)
            if stamp != self._db_stamp:
                try:
                    conn = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
                    try:
                        ids = frozenset(r[0] for r in conn.execute("select fragment_id from fragments"))
                    finally:
                        conn.close()
                except sqlite3.Error:
                    return None
                self._db_stamp, self._current_ids = stamp, ids
            return self._current_ids

    @property
    def decisions_path(self) -> Path:
        from . import paths

        return self.root / paths.REVIEWS

    def decisions(self) -> list[review.Decision]:
        """The decisions of the file (re-read when its size or modification time changed)."""
        path = self.decisions_path
        with self._lock:
            stat = path.stat() if path.exists() else None
            stamp = (stat.st_mtime_ns, stat.st_size) if stat else (0, 0)
            if stamp != self._stamp:
                with _shared_lock(path):    # never read a decision another reviewer is half-way writing
                    decisions, problems = review.read_decisions(path)
                for p in problems:
                    log.warning("%s", p["message"])
                self._decisions = [d for d in decisions if d.fragment_id in self.fragments]
                self._stamp = stamp
            return list(self._decisions)

    def visible_decisions(self) -> list[review.Decision]:
        """Blind mode: only this reviewer's own decisions."""
        ds = self.decisions()
        return [d for d in ds if d.reviewer == self.reviewer] if self.blind else ds

    # ------------------------------------------------------------------ queue
    def _meta(self, fid: str) -> tuple[str, str]:
        frag = self.fragments[fid]
        doc = self.documents.get(frag["doc_id"], {})
        resp = self.respondents.get(frag.get("respondent_id") or doc.get("respondent_id") or "", {})
        region = resp.get("region") or doc.get("region") or "–"
        rtype = resp.get("respondent_type") or (f"document: {doc.get('doc_type')}" if doc.get("doc_type") else "–")
        return region, rtype

    def _source(self, key: tuple[str, str]) -> str:
        row = self.merged.get(key)
        if row and row.get("sources"):
            return row["sources"]
        have = self.machine.get(key, {})
        names = [s for s in ("rule", "classifier") if s in have]
        return "+".join(names) if names else "review"

    def _score(self, key: tuple[str, str]) -> float | None:
        clf = self.machine.get(key, {}).get("classifier")
        if clf and clf.get("score") is not None:
            return float(clf["score"])
        row = self.merged.get(key)
        return float(row["score"]) if row and row.get("score") is not None else None

    def all_items(self) -> list[Item]:
        if self.blind:
            out = []
            for fid in self.sample:
                region, rtype = self._meta(fid)
                f = self.fragments[fid]
                out.append(Item(fid, None, f["doc_id"], f["seq"], region, rtype, "", None, math.inf))
            return out
        keys = set(self.merged)
        keys |= {(d.fragment_id, d.code) for d in self.decisions()}
        out = []
        for fid, code in keys:
            f = self.fragments.get(fid)
            if f is None:
                continue
            region, rtype = self._meta(fid)
            score = self._score((fid, code))
            threshold = self.thresholds.get(code, 0.5)
            unc = abs(score - threshold) if score is not None else math.inf
            out.append(Item(fid, code, f["doc_id"], f["seq"], region, rtype, self._source((fid, code)), score, unc))
        out.sort(key=lambda i: (i.doc_id, i.seq, i.code or ""))
        return out

    def statuses(self) -> dict[tuple[str, str | None], str]:
        """Queue key -> status now."""
        ds = self.visible_decisions()
        if self.blind:
            done = {d.fragment_id for d in ds}
            return {(fid, None): ("coded" if fid in done else "unreviewed") for fid in self.sample}
        eff = review.effective_decisions(ds)
        return {key: review.status_of(d) for key, d in eff.items()}

    def queue(self, filters: dict[str, str], order: str = "document") -> list[Item]:
        items = self.all_items()
        status = self.statuses()
        out = []
        for it in items:
            st = status.get((it.fragment_id, it.code), "unreviewed")
            if filters.get("code") and not (it.code or "").startswith(filters["code"]):
                continue
            if filters.get("region") and it.region != filters["region"]:
                continue
            if filters.get("rtype") and it.rtype != filters["rtype"]:
                continue
            if filters.get("doc") and it.doc_id != filters["doc"]:
                continue
            if filters.get("source") and it.source != filters["source"]:
                continue
            wanted = filters.get("status")
            if wanted and not (st == wanted or (wanted == "accepted" and st in ("added", "valence_changed"))):
                continue
            out.append(it)
        if order == "uncertain":
            out.sort(key=lambda i: (i.uncertainty, i.doc_id, i.seq, i.code or ""))
        return out

    @staticmethod
    def order_note(items: list[Item], order: str) -> str:
        """What the reviewer must know about the order shown: 'meest onzeker eerst' needs classifier scores."""
        if order != "uncertain" or not items:
            return ""
        unscored = sum(1 for i in items if i.score is None)
        if unscored == len(items):
            return ("Geen classificatiescore in deze selectie, dus niets om op onzekerheid te sorteren: "
                    "de coderingen staan in documentvolgorde.")
        if unscored:
            return (f"{unscored} van {len(items)} coderingen hebben geen classificatiescore (alleen regels of "
                    "handmatig); die staan achteraan, in documentvolgorde.")
        return ""

    def closest_codes(self, typed: str, n: int = 3) -> list[str]:
        """The codebook's ids closest to what was typed, matched against ids and labels (difflib)."""
        by_label = {c.label.lower(): c.id for c in self.codes.values()}
        text = typed.strip().lower()
        ids = difflib.get_close_matches(text, [c.lower() for c in self.codes], n=n, cutoff=0.5)
        labels = difflib.get_close_matches(text, list(by_label), n=n, cutoff=0.5)
        lower_to_id = {c.lower(): c for c in self.codes}
        found = [lower_to_id[i] for i in ids] + [by_label[label] for label in labels]
        return list(dict.fromkeys(found))[:n]

    def choices(self) -> dict[str, list[str]]:
        items = self.all_items()
        return {
            "code": sorted(self.codes) if not self.blind else [],
            "region": sorted({i.region for i in items}),
            "rtype": sorted({i.rtype for i in items}),
            "doc": sorted({i.doc_id for i in items}),
            "source": sorted({i.source for i in items}) if not self.blind else [],
            "status": ["unreviewed", "accepted", "rejected"] if not self.blind else ["unreviewed", "coded"],
        }

    def progress(self) -> list[dict[str, Any]]:
        """Reviewed / total per code (blind: coded / sampled fragments)."""
        status = self.statuses()
        if self.blind:
            done = sum(1 for s in status.values() if s != "unreviewed")
            return [{"code": "steekproef", "reviewed": done, "total": len(self.sample)}]
        totals: dict[str, list[int]] = {}
        for it in self.all_items():
            t = totals.setdefault(it.code or "", [0, 0])
            t[1] += 1
            if status.get((it.fragment_id, it.code), "unreviewed") != "unreviewed":
                t[0] += 1
        rows = [{"code": c, "reviewed": r, "total": n} for c, (r, n) in sorted(totals.items())]
        rows.insert(0, {"code": "alle codes", "reviewed": sum(r["reviewed"] for r in rows),
                        "total": sum(r["total"] for r in rows)})
        return rows

    # ------------------------------------------------------------------ one card
    def card(self, fid: str, code: str | None) -> dict[str, Any]:
        frag = self.fragments.get(fid)
        if frag is None:
            raise KeyError(fid)
        doc = self.documents.get(frag["doc_id"], {})
        region, rtype = self._meta(fid)
        ds = self.visible_decisions()
        text = frag["text"] or ""
        parts = [{"text": text, "mark": False}]
        machine = self.machine.get((fid, code), {}) if code and not self.blind else {}
        rule = machine.get("rule")
        if rule and rule.get("start") is not None and rule.get("end") is not None:
            s, e = int(rule["start"]), int(rule["end"])
            if 0 <= s < e <= len(text):
                parts = [{"text": text[:s], "mark": False}, {"text": text[s:e], "mark": True},
                         {"text": text[e:], "mark": False}]
        order = self.doc_order.get(frag["doc_id"], [])
        pos = order.index(fid) if fid in order else 0
        context_before = [self._ctx(x, keep_end=True) for x in order[max(0, pos - CONTEXT_BEFORE):pos]]
        context_after = [self._ctx(x) for x in order[pos + 1:pos + 1 + CONTEXT_AFTER]]
        eff = review.effective_decisions(ds)
        mine = review.latest_per_reviewer(d for d in ds if d.reviewer == self.reviewer
                                          and (d.mode == "blind") == self.blind)
        if self.blind:
            own = sorted((c, d) for (r, f, c), d in mine.items() if f == fid)
            fragment_codes = [{"code": c, "status": review.status_of(d), "valence": d.valence,
                               "label": self._label(c), "current": False} for c, d in own if d.decision != "reject"]
        else:
            keys = sorted({k for k in self.merged if k[0] == fid} | {k for k in eff if k[0] == fid})
            fragment_codes = []
            for key in keys:
                d = eff.get(key)
                row = self.merged.get(key, {})
                fragment_codes.append({"code": key[1], "label": self._label(key[1]),
                                       "status": review.status_of(d) if d else "unreviewed",
                                       "valence": (d.valence if d and d.valence else row.get("valence")),
                                       "current": key[1] == code})
        current = None
        if code and not self.blind:
            d = eff.get((fid, code))
            row = self.merged.get((fid, code), {})
            clf = machine.get("classifier") or {}
            history = [x for x in ds if x.fragment_id == fid and x.code == code]
            history.sort(key=lambda x: (x.time, x.line))
            current = {
                "code": code, "label": self._label(code), "status": review.status_of(d),
                "status_label": STATUS_LABELS.get(review.status_of(d)),
                "valence": (d.valence if d and d.valence else row.get("valence")
                            or (rule or {}).get("valence") or clf.get("valence")),
                "has_valence": self._has_valence(code),
                "source": SOURCE_LABELS.get(self._source((fid, code)), self._source((fid, code))),
                "rule_id": (rule or {}).get("rule_id") or row.get("rule_id"),
                "evidence": (rule or {}).get("evidence") or row.get("evidence"),
                "score": self._score((fid, code)), "threshold": self.thresholds.get(code),
                "features": _features(clf.get("features")),
                "model_version": clf.get("model_version") or row.get("model_version"),
                "decided_by": d.reviewer if d else None, "decided_at": d.time if d else None,
                "history": [{"time": x.time, "reviewer": x.reviewer, "decision": x.decision,
                             "valence": x.valence, "memo": x.memo} for x in history],
            }
        definition = self._definition(code) if code else None
        return {
            "fragment_id": fid, "doc_id": frag["doc_id"], "doc_title": doc.get("title"),
            "doc_type": doc.get("doc_type"), "speaker": frag.get("speaker"), "role": frag.get("role"),
            "respondent_id": frag.get("respondent_id") or doc.get("respondent_id"), "region": region,
            "rtype": rtype, "page": frag.get("page"), "timestamp": frag.get("timestamp"), "seq": frag.get("seq"),
            "parts": parts, "context_before": context_before, "context_after": context_after,
            "current": current, "fragment_codes": fragment_codes, "definition": definition,
            "blind": self.blind, "reviewer": self.reviewer,
        }

    def _ctx(self, fid: str, keep_end: bool = False) -> dict[str, Any]:
        """A neighbouring fragment, shortened to CONTEXT_CHARS on the side away from the reviewed one."""
        f = self.fragments[fid]
        text = f.get("text") or ""
        if len(text) > CONTEXT_CHARS:
            text = "… " + text[-CONTEXT_CHARS:].lstrip() if keep_end else text[:CONTEXT_CHARS].rstrip() + " …"
        return {"speaker": f.get("speaker") or f.get("role") or "", "role": f.get("role"), "text": text}

    def _label(self, code: str) -> str:
        c = self.codes.get(code)
        return c.label if c else code

    def _definition(self, code: str) -> dict[str, Any] | None:
        c = self.codes.get(code)
        if c is None:
            return {"code": code, "label": code, "definition": "Deze code staat niet (meer) in het codeboek.",
                    "include": [], "exclude": []}
        return {"code": c.id, "label": c.label, "definition": c.definition, "include": list(c.include),
                "exclude": list(c.exclude), "category": self.categories.get(c.category, c.category)}

    def code_list(self) -> list[dict[str, str]]:
        return [{"code": c.id, "label": c.label, "definition": c.definition, "has_valence": self._has_valence(c.id)}
                for c in self.codes.values()]

    def _has_valence(self, code: str) -> bool:
        """Whether the code's category declares a valence (codebook)."""
        return code in self.valenced

    # ------------------------------------------------------------------ writing
    def decide(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Validate and append one decision (or in blind mode a 'done' marker); returns the new status."""
        fid = payload.get("fragment_id")
        code = payload.get("code")
        decision = payload.get("decision")
        frag = self.fragments.get(fid) if isinstance(fid, str) else None
        if frag is None:
            raise review.ReviewError("decision field 'fragment_id': unknown fragment.")
        if self.blind and fid not in self.sample:
            raise review.ReviewError("decision field 'fragment_id': not in the blind sample.")
        current = self.current_fragment_ids()
        if current is None or fid not in current:
            raise StaleFragmentError(STALE_FRAGMENT)
        memo = payload.get("memo") if isinstance(payload.get("memo"), str) else None
        if decision == "done":
            if not self.blind:
                raise review.ReviewError("decision field 'decision': 'done' only exists in blind mode.")
            mine = review.latest_per_reviewer(d for d in self.decisions()
                                              if d.reviewer == self.reviewer and d.mode == "blind")
            decided = {c for (r, f, c) in mine if f == fid}
            note = "blind: niet toegekend" + (f"; {memo.strip()}" if memo and memo.strip() else "")
            rows = [review.make_decision(self.reviewer, frag, c, "reject", memo=note, has_valence=self._has_valence(c),
                                         mode="blind")
                    for c in self.codes if c not in decided]
            review.append_decisions(self.decisions_path, rows)
            return {"ok": True, "status": "coded", "status_label": STATUS_LABELS["coded"], "written": len(rows)}
        if not isinstance(code, str) or code not in self.codes:
            close = self.closest_codes(code) if isinstance(code, str) else []
            offer = ("Bedoelt u " + " of ".join(f"'{c}' ({self._label(c)})" for c in close) + "?" if close
                     else "Kies een code uit de lijst (typ een deel van de id of het label).")
            raise review.ReviewError(f"code '{code}' staat niet in het codeboek. {offer}")
        valence = payload.get("valence") if isinstance(payload.get("valence"), str) else None
        if decision == "accept" and valence is None and self._has_valence(code):
            row = self.merged.get((fid, code)) or {}
            valence = row.get("valence")
        d = review.make_decision(self.reviewer, frag, code, str(decision), valence, memo,
                                 has_valence=self._has_valence(code), mode="blind" if self.blind else "review")
        review.append_decision(self.decisions_path, d)
        status = review.status_of(d)
        prog = next((p for p in self.progress() if p["code"] == (code if not self.blind else "steekproef")), None)
        return {"ok": True, "status": status, "status_label": STATUS_LABELS.get(status), "progress": prog}


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


@contextmanager
def _shared_lock(path: Path) -> Iterator[None]:
    """A shared lock on the decisions file while reading it (writers hold the exclusive one)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:         # no file yet: nothing to read half-written
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)        # closing releases the lock


# ---------------------------------------------------------------------------- HTTP

def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("kwalitatief", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "html.j2"], default=True),
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class ReviewServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = REQUEST_QUEUE_SIZE

    def __init__(self, state: ReviewState, port: int) -> None:
        self.state = state
        self.token = secrets.token_urlsafe(32)
        self.env = _environment()
        super().__init__(("127.0.0.1", port), ReviewHandler)
        self.port = self.server_address[1]
        self.allowed_hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.allowed_origins = {f"http://{h}" for h in self.allowed_hosts}


class ReviewHandler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "kwal-review"
    sys_version = ""
    timeout = REQUEST_TIMEOUT

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet: one line per request at debug level
        log.debug("%s " + fmt, self.address_string(), *args)

    # ---------------------------------------------------------- helpers
    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _html(self, body: str, status: int = 200) -> None:
        self._send(status, body.encode("utf-8"), "text/html; charset=utf-8")

    def _host_ok(self) -> bool:
        if self.headers.get("Host") not in self.server.allowed_hosts:
            self._send(HTTPStatus.FORBIDDEN, b"forbidden: wrong Host header", "text/plain; charset=utf-8")
            return False
        return True

    def _filters(self, query: dict[str, list[str]]) -> tuple[dict[str, str], str]:
        filters = {k: query.get(k, [""])[0] for k in FILTERS if query.get(k, [""])[0]}
        order = query.get("order", ["document"])[0]
        return filters, order if order in ORDERS else "document"

    # ---------------------------------------------------------- GET
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if not self._host_ok():
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        state = self.server.state
        try:
            if url.path == "/":
                filters, order = self._filters(query)
                items = state.queue(filters, order)
                page = self.server.env.get_template("review.html.j2").render(
                    token=self.server.token, reviewer=state.reviewer, blind=state.blind,
                    queue=[[i.fragment_id, i.code] for i in items], filters=filters, order=order,
                    order_note=state.order_note(items, order),
                    choices=state.choices(), progress=state.progress(), codes=state.code_list(),
                    categories=state.categories,
                    status_labels=STATUS_LABELS, source_labels=SOURCE_LABELS,
                    decisions_file=str(state.decisions_path), sample_size=len(state.sample), seed=state.seed)
                self._html(page)
            elif url.path == "/card":
                fid = query.get("f", [""])[0]
                code = query.get("c", [""])[0] or None
                card = state.card(fid, code)
                progress = {p["code"]: p for p in state.progress()}
                html = self.server.env.get_template("review_card.html.j2").render(
                    card=card, status_labels=STATUS_LABELS, codes=state.code_list(),
                    progress=progress.get(code if code and not state.blind else
                                          ("steekproef" if state.blind else "alle codes")),
                    overall=progress.get("alle codes") or progress.get("steekproef"))
                self._html(html)
            elif url.path == "/api/progress":
                self._json(200, state.progress())
            elif url.path == "/api/statuses":
                self._json(200, {f"{fid}|{code or ''}": st for (fid, code), st in state.statuses().items()})
            elif url.path.startswith("/static/"):
                self._static(url.path[len("/static/"):])
            elif url.path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")
        except KeyError:
            self._send(HTTPStatus.NOT_FOUND, b"unknown fragment", "text/plain; charset=utf-8")
        except Exception as exc:  # noqa: BLE001 - show the reviewer an error instead of a dropped connection
            log.exception("review page: %s failed", url.path)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, f"error: {exc}".encode("utf-8"), "text/plain; charset=utf-8")

    def _static(self, name: str) -> None:
        if "/" in name or "\\" in name or name.startswith("."):
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")
            return
        res = resources.files("kwalitatief").joinpath("static", name)
        if not res.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")
            return
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        self._send(200, res.read_bytes(), ctype)

    # ---------------------------------------------------------- POST
    def do_POST(self) -> None:  # noqa: N802 - http.server API
        if not self._host_ok():
            return
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.allowed_origins:
            self._json(HTTPStatus.FORBIDDEN, {"ok": False, "error": "cross-site request refused (Origin)."})
            return
        token = self.headers.get("X-CSRF-Token") or ""
        if not hmac.compare_digest(token.encode(), self.server.token.encode()):
            self._json(HTTPStatus.FORBIDDEN, {"ok": False, "error": "missing or wrong CSRF token; reload the page."})
            return
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"ok": False, "error": "send JSON."})
            return
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        length = int(raw_length) if raw_length.isdigit() else -1
        if length <= 0 or length > MAX_BODY:
            self.close_connection = True     # an unread body must not be taken for the next request
            self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": "missing, malformed, empty or too large "
                                                                      "Content-Length."})
            return
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            self.close_connection = True
            self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": "the request body did not arrive."})
            return
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):   # bad UTF-8, bad or too deeply nested JSON
            self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": "not valid JSON (UTF-8, not nested too deeply)."})
            return
        if urlsplit(self.path).path != "/api/decide" or not isinstance(payload, dict):
            self._json(HTTPStatus.NOT_FOUND, {"ok": False, "error": "unknown request."})
            return
        try:
            result = self.server.state.decide(payload)
        except StaleFragmentError as exc:
            self._json(HTTPStatus.CONFLICT, {"ok": False, "error": str(exc), "reload": True})
            return
        except review.ReviewError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": str(exc)})
            return
        except OSError as exc:
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"ok": False, "error": f"could not save: {exc}"})
            return
        self._json(200, result)


def make_server(root: str | Path, reviewer: str, port: int = 8765, blind: bool = False, sample: int = 40,
                seed: int = 13, params: dict[str, Any] | None = None, db_path: str | Path | None = None
                ) -> ReviewServer:
    """A ready review server for the project at ``root`` (port 0 = any free port)."""
    reviewer = (reviewer or "").strip()
    if not reviewer or len(reviewer) > review.MAX_REVIEWER or "\n" in reviewer:
        raise ReviewAppError(f"--reviewer: give your name (1-{review.MAX_REVIEWER} characters).")
    state = ReviewState(Path(root), reviewer, blind, sample, seed, Path(db_path) if db_path else None)
    state.load(params)
    return ReviewServer(state, port)
