"""The codebook's cue sets as classifier features: concept families the researcher wrote once.

A cue set (``cues:`` in the codebook, e.g. ``probleem``: ``probleem|lastig|wringen ...``) is a family
of wordings of one concept. As features, every member of a family gives the same indicator ``@probleem``, so a
fragment that says ``het wringt`` shares what the model learnt from fragments that said ``lastig``: new wording
that a family covers counts as the wording the model has seen. A family member under a negator in its clause
(the codebook's ``negators``, within ``NEGATION_WINDOW`` tokens before it, as for the rules) gives
``niet @probleem`` instead; a pattern that contains a negator itself (``niet _3 genoeg``) is never negated.
Families can describe stance as well as topic -- a problem that is solved (``@opgelost``), hedging
(``@onzeker``), reported speech (``@weergave``) -- and the model learns per code what each does to it.

With ``pairs`` every two families that occur (not negated) in the same fragment also give a conjunction
``@overheden+@probleem``: a linear model cannot combine two indicators itself, and it is the combination of a
topic family with a stance family that tells neighbouring codes apart (a topic with a problem word: a problem
code; the same topic with a goal word: a goal code).

Matching uses the rules' pattern syntax and matcher on the fragment's lemmas (no spaCy at prediction time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..rules import NEGATION_WINDOW, NOT_A_NEGATION_AFTER, PUNCT_BREAKS, FastMatcher, parse_pattern

NESTING = 3           # cue sets that refer to cue sets, as deep as the rules follow them


class CueFamilies:
    """Compiled cue sets: per fragment (a lemma string), the families that occur, negated or not."""

    def __init__(self, cues: Mapping[str, Sequence[Any]], negators: Sequence[str] = (),
                 clause_breaks: Sequence[str] = ()) -> None:
        # the constructor's arguments, in a fixed order: what a saved model pickles (see __getstate__)
        self._args = ({name: list(cues[name]) for name in sorted(cues)}, sorted(negators), sorted(clause_breaks))
        self.names = sorted(cues)
        self.negators = frozenset(n.lower() for n in negators)
        self.breaks = frozenset(PUNCT_BREAKS) | {b.lower() for b in clause_breaks}
        self.fast = FastMatcher()
        self._keys: dict[str, list[tuple[str, bool]]] = {}     # family -> (matcher key, contains a negator)
        for name in self.names:
            keys: list[tuple[str, bool]] = []
            for i, pattern in enumerate(self._patterns(cues, name, 0)):
                tokens = parse_pattern(pattern)
                key = f"{name}#{i}"
                if self.fast.add(key, [t.spec for t in tokens]):
                    literal = {w for t in tokens for w in (*t.lemmas, *t.words)}
                    keys.append((key, bool(literal & self.negators)))
            self._keys[name] = keys
        self._memo: dict[str, list[str]] = {}   # lemma string -> found(): the same texts recur in every fold

    @staticmethod
    def _patterns(cues: Mapping[str, Sequence[Any]], name: str, depth: int) -> list[Any]:
        out: list[Any] = []
        for pattern in cues.get(name) or ():
            if isinstance(pattern, str) and pattern.strip().startswith("@"):
                if depth < NESTING:
                    out += CueFamilies._patterns(cues, pattern.strip()[1:], depth + 1)
            elif isinstance(pattern, str):
                out.append(pattern)
        return out

    @classmethod
    def of_codebook(cls, codebook: Any) -> "CueFamilies":
        return cls(codebook.cues, codebook.negators, [*codebook.clause_breaks, *codebook.contrast])

    def feature_names(self, pairs: bool = False) -> list[str]:
        """Column names: ``@family`` then ``niet @family`` per family, then (``pairs``) ``@a+@b`` for a < b."""
        names = [n for name in self.names for n in (f"@{name}", f"niet @{name}")]
        if pairs:
            names += [f"@{a}+@{b}" for i, a in enumerate(self.names) for b in self.names[i + 1:]]
        return names

    def found(self, lemmas: str) -> list[str]:
        """The feature names of one fragment's lemma string (sorted as :meth:`feature_names`)."""
        memo = self.__dict__.setdefault("_memo", {})
        hit = memo.get(lemmas)
        if hit is None:
            hit = memo[lemmas] = self._find(lemmas)
        return hit

    def warm(self, lemma_texts: Sequence[str]) -> None:
        """Work out the families of these texts now (before the object is copied to worker processes)."""
        for lemmas in lemma_texts:
            self.found(lemmas)

    def forget(self) -> None:
        """Drop the remembered texts (before a model is saved: its bytes must not depend on what it coded)."""
        self._memo = {}

    def _find(self, lemmas: str) -> list[str]:
        tokens = lemmas.lower().split()
        if not tokens:
            return []
        matches = self.fast.match(tokens, tokens)
        clause = np.cumsum([t in self.breaks for t in tokens])
        out = []
        for name in self.names:
            plain = negated = False
            for key, has_negator in self._keys[name]:
                for start, _ in matches.get(key):
                    if not has_negator and self._negated(tokens, clause, start):
                        negated = True
                    else:
                        plain = True
                        break
                if plain:
                    break
            if plain:
                out.append(f"@{name}")
            elif negated:
                out.append(f"niet @{name}")
        return out

    def _negated(self, tokens: list[str], clause: np.ndarray, start: int) -> bool:
        for i in range(start - 1, max(-1, start - 1 - NEGATION_WINDOW), -1):
            if clause[i] != clause[start]:
                return False
            if tokens[i] in self.negators and (i + 1 >= len(tokens) or tokens[i + 1] not in NOT_A_NEGATION_AFTER):
                return True
        return False

    def matrix(self, lemma_texts: Sequence[str], weight: float, pairs: bool = False) -> sp.csr_matrix:
        """The indicator block of the features (``weight`` where a family, or with ``pairs`` two, occur)."""
        index = {n: i for i, n in enumerate(self.feature_names(pairs))}
        rows, cols = [], []
        for r, lemmas in enumerate(lemma_texts):
            found = self.found(lemmas)
            if pairs:
                plain = [n for n in found if not n.startswith("niet ")]
                found = found + [f"{a}+{b}" for i, a in enumerate(plain) for b in plain[i + 1:]]
            for name in found:
                rows.append(r)
                cols.append(index[name])
        return sp.csr_matrix((np.full(len(rows), weight), (rows, cols)), shape=(len(lemma_texts), len(index)))

    def __getstate__(self) -> dict[str, Any]:
        # Only the sorted arguments: the compiled matcher holds sets whose order depends on the hash seed,
        # and a saved model must be byte-identical from run to run.
        return {"args": self._args}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(*state["args"])  # type: ignore[misc]
