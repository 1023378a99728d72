"""The final pick rules on given dev results, and the run returning what its rule picked."""

from __future__ import annotations

import json
import typing

import pytest

from behavopt.eval.stats import paired_comparison
from behavopt.optimizers import optimize_task as optimize
from behavopt.optimizers.engine.pick import PICKS, DevResults, PickInput
from behavopt.optimizers.settings import SearchGroup
from behavopt.tasks.types import Example
from tests.lm.scripted import ScriptedBackend
from tests.optimizers.helpers import make_task, optimizer_answer, target_answer


def given(dev_gold: str, answers: dict[str, str], leader: str) -> PickInput:
    """Dev examples with these one-letter gold labels; each candidate's one-letter answers, example by example."""
    dev = [Example(id=f"d{i}", input=f"q{i}", target=g) for i, g in enumerate(dev_gold)]
    results = {cid: DevResults(tuple(float(a == g) for a, g in zip(ans, dev_gold)), tuple(ans))
               for cid, ans in answers.items()}
    return PickInput(initial="c0000", leader=leader, results=results, dev=dev, metric=lambda a, e: a == e.target)


def test_the_rules_are_the_settings_choices():
    choices = typing.get_args(typing.get_type_hints(SearchGroup)["pick"])
    assert set(choices) == set(PICKS)
    assert SearchGroup().pick == "dev"  # today's pick stays the default


def test_the_leader_rule_returns_the_search_leader():
    pick = PICKS["dev"](given("YN", {"c0000": "NN", "c0001": "YN"}, leader="c0001"))
    assert pick.candidate == "c0001"


@pytest.mark.parametrize("initial, leader, picked", [
    ("NNNNNNNN", "YYYYYYYY", "c0001"),  # 8 better, 0 worse: p = 0.008
    ("NNNNNNYY", "YYYYYYYY", "c0001"),  # 6 better, 0 worse: p = 0.031
    ("NNNNNYYY", "YYYYYYYY", "c0000"),  # 5 better, 0 worse: p = 0.063, not a significant gain
    ("NNNNNNNY", "YYYYYYNN", "c0000"),  # 6 better, 1 worse: p = 0.125
])
def test_the_significant_rule_keeps_the_initial_unless_the_leader_beats_it_on_dev(initial, leader, picked):
    pick = PICKS["significant"](given("YYYYYYYY", {"c0000": initial, "c0001": leader}, leader="c0001"))
    assert pick.candidate == picked
    assert "p = " in pick.reason


@pytest.mark.parametrize("gold, leader_answers, other_answers", [
    # 7 of 10 gold "Y": always "Y" scores 0.70 with kappa 0; the other scores 0.60 by telling the labels apart
    ("YYYYYYYNNN", "YYYYYYYYYY", "YYYYNNYNNY"),
])
def test_the_kappa_rule_does_not_let_a_candidate_lead_by_giving_the_commoner_label(gold, leader_answers,
                                                                                   other_answers):
    answers = {"c0000": "N" * len(gold), "c0001": leader_answers, "c0002": other_answers}
    pool = given(gold, answers, leader="c0001")
    assert pool.kappa("c0001") == pytest.approx(0.0)
    pick = PICKS["kappa"](pool)
    assert pick.candidate == "c0002"


def test_the_kappa_rule_gives_ties_to_the_earliest_candidate():
    pick = PICKS["kappa"](given("YN", {"c0000": "YN", "c0001": "YN"}, leader="c0000"))
    assert pick.candidate == "c0000"


@pytest.fixture
def scripted(monkeypatch):
    task = make_task()
    backends = {"target": ScriptedBackend(target_answer, name="target", max_concurrency=8),
                "optimizer": ScriptedBackend(optimizer_answer, name="optimizer")}
    monkeypatch.setattr("behavopt.lm.client.open_backend", lambda spec, **kw: backends[spec.target])
    monkeypatch.setattr("behavopt.optimizers.run.load_task", lambda spec, data_dir=None: task)
    return task


def picked_event(out) -> dict:
    lines = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    [event] = [e for e in lines if e["type"] == "picked"]
    return event


SMALL_RUN = dict(initial=4, beam=2, expand=2, steps=1, errors=3, train_size=20, test_size=10, train_batch=10, seed=1)


def test_on_four_dev_examples_no_gain_is_significant_so_the_run_returns_the_initial_instruction(scripted, tmp_path):
    result = optimize("items", "apo", "openai:target", "openai:optimizer", out=tmp_path, cache=False,
                      dev_size=4, pick="significant", **SMALL_RUN)
    event = picked_event(tmp_path)
    assert event["leader"] != "c0000", "the scripted search should find a dev leader for the rule to refuse"
    assert result.best_candidate == event["candidate"] == "c0000" and event["rule"] == "significant"
    assert result.best_test_score == result.initial_test_score


def test_the_run_returns_the_leader_where_its_dev_gain_is_significant(scripted, tmp_path):
    result = optimize("items", "apo", "openai:target", "openai:optimizer", out=tmp_path, cache=False,
                      dev_size=20, pick="significant", **SMALL_RUN)
    event = picked_event(tmp_path)
    records = {cid: {json.loads(line)["id"]: json.loads(line)["score"]
                     for line in (tmp_path / "records" / f"{cid}.jsonl").read_text().splitlines()
                     if json.loads(line)["split"] == "dev"} for cid in ("c0000", event["leader"])}
    ids = sorted(records["c0000"])
    gain = paired_comparison([records["c0000"][i] for i in ids], [records[event["leader"]][i] for i in ids])
    assert gain.verdict == "significant gain", "the scripted leader should beat the initial instruction on dev"
    assert result.best_candidate == event["candidate"] == event["leader"]
