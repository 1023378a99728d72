import math

import pytest

from behavopt.study.repetition import (DEFAULT_THRESHOLD, FeedbackItem, asrr, choose_threshold, cluster, lineages,
                                       threshold_scores)

# Themes as orthogonal axes; a "paraphrase" of a theme is a small rotation of it (cosine ~0.98).
AXES = {"format": 0, "steps": 1, "examples": 2, "ambiguity": 3, "length": 4}


def vec(theme: str, wobble: float = 0.0) -> list[float]:
    v = [0.0] * 6
    v[AXES[theme]] = 1.0
    v[5] = wobble
    return v


def dict_embedder(table):
    def embed(texts):
        return [table[t] for t in texts]
    return embed


TABLE = {
    "state the answer format": vec("format"),
    "say how to format the answer": vec("format", 0.2),
    "the format of the final answer is unclear": vec("format", -0.2),
    "break the task into steps": vec("steps"),
    "reason step by step": vec("steps", 0.2),
    "give worked examples": vec("examples"),
    "the question is ambiguous": vec("ambiguity"),
    "keep it short": vec("length"),
}
EMBED = dict_embedder(TABLE)


def test_default_threshold_is_the_calibrated_value():
    assert DEFAULT_THRESHOLD == 0.67  # how it was calibrated: tests/study/test_embedding.py


def test_cluster_leader_groups_paraphrases():
    vectors = [vec("format"), vec("steps"), vec("format", 0.2), vec("examples"), vec("steps", 0.2)]
    assert cluster(vectors, 0.8, "leader") == [0, 1, 0, 2, 1]
    # At a threshold above the paraphrase cosine (~0.98) every item is its own cluster.
    assert cluster(vectors, 0.99, "leader") == [0, 1, 2, 3, 4]


def test_cluster_single_linkage_chains_but_leader_does_not():
    # a-b and b-c are similar (cos 0.866), a-c are not (cos 0.5): single linkage chains them, leader does not.
    a = [1.0, 0.0]
    b = [math.cos(math.pi / 6), math.sin(math.pi / 6)]
    c = [math.cos(math.pi / 3), math.sin(math.pi / 3)]
    assert cluster([a, b, c], 0.85, "single") == [0, 0, 0]
    # Leader: b joins a's cluster; the centroid sits at 15 degrees, c is 45 degrees from it (0.707 < 0.85).
    assert cluster([a, b, c], 0.85, "leader") == [0, 0, 1]
    with pytest.raises(ValueError):
        cluster([a], 0.8, "kmeans")


def test_lineages_ancestors_nearest_first():
    parents = {"root": None, "a": "root", "b": "a", "c": "a", "d": "c", "orphan": "gone"}
    assert lineages(parents) == {"root": [], "a": ["root"], "b": ["a", "root"], "c": ["a", "root"],
                                 "d": ["c", "a", "root"], "orphan": ["gone"]}
    with pytest.raises(ValueError, match="cycle"):
        lineages({"x": "y", "y": "x"})


def test_asrr_two_lineages_known_answer():
    items = [
        # Lineage L1: step 1 says format and steps; step 2 repeats format, says examples (new);
        # step 3 repeats steps and examples.
        FeedbackItem("L1", 1, "state the answer format"),
        FeedbackItem("L1", 1, "break the task into steps"),
        FeedbackItem("L1", 2, "say how to format the answer"),
        FeedbackItem("L1", 2, "give worked examples"),
        FeedbackItem("L1", 3, "reason step by step"),
        FeedbackItem("L1", 3, "give worked examples"),
        # Lineage L2: says "format" only at step 2, which L1 said earlier: another lineage does not count.
        FeedbackItem("L2", 1, "the question is ambiguous"),
        FeedbackItem("L2", 2, "the format of the final answer is unclear"),
    ]
    r = asrr(items, EMBED, threshold=0.8)
    assert r.repeated == (False, False, True, False, True, True, False, False)
    by_step = {s.step: (s.n_items, s.n_repeated) for s in r.per_step}
    assert by_step == {1: (3, 0), 2: (3, 1), 3: (2, 2)}
    assert r.rate_at(1) == 0.0
    assert r.rate_at(2) == pytest.approx(1 / 3)
    assert r.rate_at(3) == 1.0
    assert r.rate_at(7) is None
    # Mean over steps >= 2: (1/3 + 1) / 2.
    assert r.asrr == pytest.approx(2 / 3)
    assert r.from_step == 2 and r.threshold == 0.8 and r.method == "leader"
    # Same cluster label for the format paraphrases across lineages.
    assert r.labels[0] == r.labels[2] == r.labels[7]


def test_asrr_same_step_duplicates_do_not_count():
    items = [FeedbackItem("L", 2, "state the answer format"), FeedbackItem("L", 2, "say how to format the answer")]
    r = asrr(items, EMBED)
    assert r.repeated == (False, False)
    assert r.asrr == 0.0


def test_asrr_with_ancestors_counts_feedback_given_to_any_ancestor():
    # Tree: p0 -> p1 -> p2, and p0 -> q1 (a sibling branch). Feedback is keyed by the candidate it was written for.
    anc = lineages({"p0": None, "p1": "p0", "p2": "p1", "q1": "p0"})
    items = [
        FeedbackItem("p0", 1, "state the answer format"),
        FeedbackItem("p1", 2, "break the task into steps"),
        FeedbackItem("q1", 2, "keep it short"),
        # p2 repeats its grandparent's point (format) and its parent's (steps); "keep it short" was said only on
        # the sibling branch q1, so it is not a repeat here.
        FeedbackItem("p2", 3, "say how to format the answer"),
        FeedbackItem("p2", 3, "reason step by step"),
        FeedbackItem("p2", 3, "keep it short"),
        # q1 repeats the root's point.
        FeedbackItem("q1", 3, "the format of the final answer is unclear"),
    ]
    r = asrr(items, EMBED, ancestors=anc)
    assert r.repeated == (False, False, False, True, True, False, True)
    assert r.rate_at(2) == 0.0
    assert r.rate_at(3) == pytest.approx(3 / 4)
    assert r.asrr == pytest.approx((0.0 + 0.75) / 2)
    # Without the tree each candidate id is its own lineage, and none repeats a point of its own earlier feedback.
    flat = asrr(items, EMBED)
    assert flat.repeated == (False,) * 7


def test_asrr_ancestors_must_cover_every_lineage_id():
    with pytest.raises(ValueError, match="missing from `ancestors`"):
        asrr([FeedbackItem("x", 1, "keep it short")], EMBED, ancestors={"y": []})


def test_asrr_input_order_does_not_matter_for_leader():
    items = [
        FeedbackItem("L", 3, "reason step by step"),
        FeedbackItem("L", 1, "break the task into steps"),
        FeedbackItem("L", 2, "keep it short"),
        FeedbackItem("L", 2, "say how to format the answer"),
        FeedbackItem("L", 1, "state the answer format"),
    ]
    r = asrr(items, EMBED)
    assert r.repeated == (True, False, False, True, False)
    assert r.asrr == pytest.approx((0.5 + 1.0) / 2)
    assert asrr(list(reversed(items)), EMBED).asrr == pytest.approx(r.asrr)


def test_asrr_threshold_and_from_step():
    items = [FeedbackItem("L", 1, "state the answer format"), FeedbackItem("L", 2, "say how to format the answer")]
    assert asrr(items, EMBED, threshold=0.8).asrr == 1.0
    assert asrr(items, EMBED, threshold=0.99).asrr == 0.0
    assert asrr(items, EMBED, from_step=1).asrr == pytest.approx(0.5)
    assert asrr(items, EMBED, from_step=5).asrr is None
    with pytest.raises(ValueError):
        asrr([], EMBED)


def test_choose_threshold_maximizes_f1():
    # Pair similarities by construction: 0.95 and 0.85 similar, 0.6 dissimilar, 0.9 dissimilar (hard negative),
    # 0.3 dissimilar. Cuts: >=0.95 F1 0.667; >=0.9 P 1/2 R 1/2 F1 0.5; >=0.85 P 2/3 R 1 F1 0.8 (best);
    # >=0.6 P 2/4 F1 0.667; >=0.3 P 2/5 F1 0.571. Best cut 0.85; reported midway to the next lower similarity 0.6.
    def v(c):
        return [c, math.sqrt(1 - c * c)]

    table = {"ref": [1.0, 0.0], "s95": v(0.95), "s85": v(0.85), "d60": v(0.6), "d90": v(0.9), "d30": v(0.3)}
    similar = [("ref", "s95"), ("ref", "s85")]
    dissimilar = [("ref", "d60"), ("ref", "d90"), ("ref", "d30")]
    embed = dict_embedder(table)
    scores = threshold_scores(similar, dissimilar, embed)
    assert [round(s.f1, 3) for s in scores] == [0.667, 0.5, 0.8, 0.667, 0.571]
    t = choose_threshold(similar, dissimilar, embed)
    assert t == pytest.approx((0.85 + 0.6) / 2)
    # Applying it separates the labelled pairs as at the best cut: the hard negative stays a false positive.
    best = max(scores, key=lambda s: s.f1)
    assert (best.precision, best.recall) == (pytest.approx(2 / 3), 1.0)


def test_choose_threshold_ties_prefer_the_higher_threshold():
    def v(c):
        return [c, math.sqrt(1 - c * c)]

    table = {"ref": [1.0, 0.0], "s90": v(0.9), "s60": v(0.6), "d80": v(0.8), "d70": v(0.7)}
    similar = [("ref", "s90"), ("ref", "s60")]
    dissimilar = [("ref", "d80"), ("ref", "d70")]
    # Cuts 0.9 (P 1, R 1/2) and 0.6 (P 1/2, R 1) tie at F1 2/3: the higher one wins, placed midway to 0.8.
    scores = threshold_scores(similar, dissimilar, dict_embedder(table))
    assert [round(s.f1, 3) for s in scores] == [0.667, 0.5, 0.4, 0.667]
    assert choose_threshold(similar, dissimilar, dict_embedder(table)) == pytest.approx(0.85)


def test_choose_threshold_needs_a_similar_pair():
    with pytest.raises(ValueError):
        choose_threshold([], [("a", "b")], dict_embedder({"a": [1.0, 0.0], "b": [0.0, 1.0]}))
