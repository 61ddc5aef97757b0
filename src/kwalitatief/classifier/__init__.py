"""The classifier that learns the researchers' own coding, next to the explainable rules, in modules of
one concern each:

- :mod:`.settings` -- ``params.yaml`` ``classify`` settings, their defaults and the error type;
- :mod:`.examples` -- labelled examples (annotations, review labels) and their content hash;
- :mod:`.annotations` -- reading annotation files and matching them to the corpus's fragments;
- :mod:`.features` -- lemma and character n-grams and rule-hit indicators;
- :mod:`.thresholds` -- choosing each code's decision threshold;
- :mod:`.training` -- fitting the per-code and valence models;
- :mod:`.model` -- the trained model, its predictions, version and persistence;
- :mod:`.merge` -- merging rule and classifier codings by a policy;
- :mod:`.cached` -- reusing a trained model and per-document codings across runs;
- :mod:`.coding_model` -- the saved model as ``kwal code-file`` codes with it.

What the classify stage does with them is :mod:`kwalitatief.classify`.
"""
