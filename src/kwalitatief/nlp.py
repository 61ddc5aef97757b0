"""The Dutch spaCy pipeline: ``nl_core_news_sm`` when installed, else a blank Dutch pipeline with lookups."""

from __future__ import annotations

import logging
from functools import lru_cache

import spacy
from spacy.attrs import IDX, LEMMA, LENGTH, ORTH
from spacy.language import Language
from spacy.tokens import Doc

log = logging.getLogger("kwalitatief.nlp")

FALLBACK_NAME = "blank:nl+lookup"


@lru_cache(maxsize=4)
def load_nlp(model: str = "nl_core_news_sm") -> Language:
    """Load ``model`` if it is installed; otherwise fall back, with one log line, to blank Dutch.

    The fallback is ``spacy.blank("nl")`` with the lookup lemmatizer (tables from
    ``spacy-lookups-data``, installed with the project) and a sentencizer. Nothing is downloaded.
    """
    if model and model != FALLBACK_NAME and spacy.util.is_package(model):
        nlp = spacy.load(model, exclude=["ner", "parser"])
        if "senter" in nlp.pipe_names:
            nlp.enable_pipe("senter")
        else:
            nlp.add_pipe("sentencizer")
        nlp.meta["kwal_model"] = f"{model}-{nlp.meta.get('version', '?')}"
        return nlp
    if model and model != FALLBACK_NAME:
        log.warning(
            "spaCy model '%s' is not installed; using spacy.blank('nl') with the lookup lemmatizer "
            "and a sentencizer (see README: 'Using the full Dutch model').", model,
        )
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("sentencizer")
    nlp.initialize()
    nlp.meta["kwal_model"] = FALLBACK_NAME
    return nlp


def model_name(nlp: Language) -> str:
    """The name recorded in provenance for this pipeline."""
    return str(nlp.meta.get("kwal_model", nlp.meta.get("name", "?")))


def token_rows(doc: Doc) -> tuple[list[list], list[int]]:
    """Compact token data of a parsed text: ``[[offset, length, lemma], ...]`` and sentence starts."""
    if not len(doc):
        tokens: list[list] = []
    else:  # arrays instead of Token objects (creating those is most of the cost)
        strings = doc.vocab.strings
        tokens = [[idx, length, (strings[lemma] if lemma else strings[orth]).lower()]
                  for idx, length, lemma, orth in doc.to_array([IDX, LENGTH, LEMMA, ORTH]).tolist()]
    sents = [s.start for s in doc.sents] if doc.has_annotation("SENT_START") else [0]
    return tokens, sents


def doc_from_rows(nlp: Language, text: str, tokens: list[list], sents: list[int]) -> Doc:
    """Rebuild a spaCy ``Doc`` (words, spaces, lemmas, sentence starts) without running the pipeline."""
    words = [text[o:o + n] for o, n, _ in tokens]
    spaces = []
    for i, (o, n, _) in enumerate(tokens):
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else len(text)
        spaces.append(nxt > o + n and text[o + n:o + n + 1] == " ")
    starts = set(sents)
    sent_starts = [i in starts for i in range(len(tokens))]
    doc = Doc(nlp.vocab, words=words, spaces=spaces, lemmas=[lemma for _, _, lemma in tokens],
              sent_starts=sent_starts if tokens else None)
    return doc
