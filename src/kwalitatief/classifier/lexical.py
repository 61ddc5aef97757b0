"""Dutch word knowledge for the classifier's lemma features, learnt from the training vocabulary itself.

- **Compounds**: a word unknown as a whole but made of known words gets its parts as extra tokens
  (``zorggeld`` -> ``zorg``, ``geld``; linking ``s``/``e``/``en`` allowed: ``samenwerkingsverband`` ->
  ``samenwerking``, ``verband``), so a new compound shares the features of words the model has seen.
- **Separable verbs**: a particle at the end of a clause (``zoeken elkaar op``, ``trekken samen op``) is joined
  to a preceding verb into the lemma of the whole verb (``opzoeken``, ``optrekken``) when the training
  vocabulary knows that word, as it does from fragments with the joined form (``samen optrekken``).

Only words of the training vocabulary are produced: the extra tokens can only map new wording onto known
features, never invent features of their own.
"""

from __future__ import annotations

from collections.abc import Iterable

PARTICLES = frozenset("""aan achter af bij binnen door in mee na om onder op over samen terug toe uit vast
voor voorbij weg""".split())
LINKS = ("", "s", "e", "en")
MIN_PART = 3            # shortest part of a compound
MIN_COMPOUND = 7        # shortest word that is split
VERB_WINDOW = 6         # tokens before a particle in which its verb is looked for
CLAUSE_END = frozenset(list(".,;:!?()\"'–-…") + "en maar want omdat doordat dat als zodat terwijl of dus".split())


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """The alphabetic tokens (at least ``MIN_PART`` letters) of the training lemma texts."""
    return frozenset(tok for text in texts for tok in text.split() if len(tok) >= MIN_PART and tok.isalpha())


def split_compound(word: str, known: frozenset[str]) -> list[str]:
    """The parts of ``word`` when it is unknown and splits into two known words (longest head first)."""
    if word in known or len(word) < MIN_COMPOUND or not word.isalpha():
        return []
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        head = word[cut:]
        if head not in known:
            continue
        for link in LINKS:
            stem = word[:cut - len(link)] if link else word[:cut]
            if link and not word[:cut].endswith(link):
                continue
            if len(stem) >= MIN_PART and stem in known:
                return [stem, head]
    return []


def joined_verbs(tokens: list[str], known: frozenset[str]) -> list[str]:
    """Separable verbs whose particle closes a clause, joined (``zoeken elkaar op`` -> ``opzoeken``)."""
    out = []
    for i, tok in enumerate(tokens):
        if tok not in PARTICLES or (i + 1 < len(tokens) and tokens[i + 1] not in CLAUSE_END):
            continue
        for j in range(i - 1, max(-1, i - 1 - VERB_WINDOW), -1):
            if tokens[j] in CLAUSE_END and not tokens[j].isalpha():
                break
            joined = tok + tokens[j]
            if joined in known:
                out.append(joined)
                break
    return out


def expand(text: str, known: frozenset[str]) -> str:
    """``text`` (lemmas separated by spaces) with the compound parts and joined verbs appended."""
    if not known:
        return text
    tokens = text.split()
    extra = joined_verbs(tokens, known)
    for tok in tokens:
        extra.extend(split_compound(tok, known))
    return f"{text} {' '.join(extra)}" if extra else text
