import math

import pytest

from behavopt.study.similarity import best_match_similarity, cosine, cosine_matrix, embed_texts, mean_best_match, unit


def dict_embedder(table):
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return [table[t] for t in texts]

    embed.calls = calls
    return embed


def test_cosine_basics():
    assert cosine([1, 0], [1, 0]) == pytest.approx(1.0)
    assert cosine([1, 0], [0, 1]) == pytest.approx(0.0)
    assert cosine([1, 0], [-2, 0]) == pytest.approx(-1.0)
    assert cosine([1, 1], [1, 0]) == pytest.approx(1 / math.sqrt(2))
    assert cosine([3, 4], [6, 8]) == 1.0  # clamped, never above 1
    assert cosine([0, 0], [1, 0]) == 0.0  # a zero vector is similar to nothing
    assert unit([3, 4]) == pytest.approx([0.6, 0.8])
    with pytest.raises(ValueError):
        cosine([1, 0], [1, 0, 0])


def test_cosine_matrix():
    m = cosine_matrix([[1, 0], [0, 1]], [[1, 0], [1, 1], [0, 2]])
    assert m[0] == pytest.approx([1.0, 1 / math.sqrt(2), 0.0])
    assert m[1] == pytest.approx([0.0, 1 / math.sqrt(2), 1.0])


def test_embed_texts_checks_the_embedder():
    with pytest.raises(ValueError, match="one per text"):
        embed_texts(lambda ts: [[1.0]], ["a", "b"])
    with pytest.raises(ValueError, match="one size"):
        embed_texts(lambda ts: [[1.0], [1.0, 2.0]], ["a", "b"])
    with pytest.raises(ValueError, match="non-finite"):
        embed_texts(lambda ts: [[float("nan")]], ["a"])
    assert embed_texts(lambda ts: [], []) == []


def test_best_match_similarity_known_values():
    # A = {x, y}; B = {x, z} with z at 60 degrees from y's axis partner.
    table = {"x": [1, 0, 0], "y": [0, 1, 0], "x2": [1, 0, 0], "z": [0, 0.5, math.sqrt(3) / 2]}
    embed = dict_embedder(table)
    r = best_match_similarity(["x", "y"], ["x2", "z"], embed)
    # A -> B: x matches x2 (1.0), y best matches z (0.5): mean 0.75. B -> A: x2 -> x (1.0), z -> y (0.5): 0.75.
    assert r.a_to_b == pytest.approx(0.75)
    assert r.b_to_a == pytest.approx(0.75)
    assert r.mean == pytest.approx(0.75)
    assert (r.n_a, r.n_b) == (2, 2)
    assert len(embed.calls) == 1  # both sets in one batch


def test_best_match_similarity_is_asymmetric_per_direction():
    table = {"a1": [1, 0], "b1": [1, 0], "b2": [0, 1]}
    r = best_match_similarity(["a1"], ["b1", "b2"], dict_embedder(table))
    # a1 is matched perfectly by b1; b2 has no match in A (cosine 0).
    assert r.a_to_b == pytest.approx(1.0)
    assert r.b_to_a == pytest.approx(0.5)
    assert r.mean == pytest.approx(0.75)
    assert mean_best_match(["a1"], ["b1", "b2"], dict_embedder(table)) == pytest.approx(0.75)
    assert mean_best_match(["a1"], ["b1", "b2"], dict_embedder(table), symmetric=False) == pytest.approx(1.0)
    swapped = best_match_similarity(["b1", "b2"], ["a1"], dict_embedder(table))
    assert swapped.mean == pytest.approx(r.mean)


def test_best_match_similarity_rejects_empty_sets():
    with pytest.raises(ValueError):
        best_match_similarity([], ["a"], dict_embedder({"a": [1.0]}))
