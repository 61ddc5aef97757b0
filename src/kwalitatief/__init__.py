"""kwalitatief: a reproducible pipeline for qualitative research in Dutch."""

__version__ = "0.1.0"
