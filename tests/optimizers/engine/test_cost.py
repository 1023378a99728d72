"""What calls cost: prices, rates measured or probed, the ceiling budgets are checked against, and the estimate
shown beside what a run used."""

from __future__ import annotations

import pytest

from behavopt.core.errors import ConfigError
from behavopt.lm.types import Usage, UsageByRole
from behavopt.optimizers.engine.cost import FREE, CallRate, Cost, CostModel, Price, RoleCalls, price_for
from behavopt.optimizers.estimate import compared, describe


def test_prices_parse_and_local_models_are_free():
    assert Price.parse("0.15/0.6") == Price(0.15, 0.6) and Price(1, 2).usd(1e6, 1e6) == 3.0
    for bad in ("0.15", "a/b", "-1/2", "1/"):
        with pytest.raises(ConfigError, match=f"price '{bad}' is not IN/OUT"):
            Price.parse(bad)
    prices = {"openai:m": Price(1, 2), "local:x": Price(3, 4)}
    assert price_for("openai:m", prices) == Price(1, 2) and price_for("openai:n", prices) is None
    assert price_for("local:y", prices) == FREE and price_for("local:x", prices) == Price(3, 4)  # given wins


def usage(calls, prompt, completion, seconds):
    return Usage(calls=calls, prompt_tokens=prompt, completion_tokens=completion, seconds=seconds)


def test_calls_are_costed_at_the_larger_of_the_probed_and_the_measured_rate():
    model = CostModel(Price(1, 10), None, probe={"target": CallRate(100, 10, 1.0), "optimizer": CallRate(50, 50, 2.0)})
    calls = RoleCalls(target=10, optimizer=2)
    before = model.cost(calls)
    assert before == Cost(calls=12, tokens=10 * 110 + 2 * 100, usd=(1000 * 1 + 100 * 10) / 1e6, seconds=14.0)
    seen = UsageByRole(target=usage(4, 800, 80, 2.0), optimizer=Usage())  # 200 + 20 tokens a call, 0.5 s
    after = model.cost(calls, seen)
    assert after.tokens == 10 * (200 + 20) + 2 * 100 and after.seconds == 10 * 1.0 + 2 * 2.0


def test_the_ceiling_has_every_call_write_up_to_its_limit_at_the_speed_seen():
    model = CostModel(Price(0, 1e6), FREE, probe={"target": CallRate(100, 10, 1.0)}, max_tokens={"target": 50})
    ceiling = model.ceiling(RoleCalls(target=2))
    assert ceiling.usd == 2 * 50 and ceiling.seconds == 2 * 5.0 and ceiling.tokens == 2 * 150
    assert model.cost(RoleCalls(target=2)).usd == 2 * 10


def test_what_a_run_used_is_priced_by_role():
    model = CostModel(Price(1, 2), FREE, probe={})
    used = model.used(UsageByRole(target=usage(3, 1e6, 1e6, 1.0), optimizer=usage(1, 5e6, 5e6, 1.0)), wall_s=9.5)
    assert used == Cost(calls=4, tokens=12_000_000, usd=3.0, seconds=9.5)


def test_costs_add_subtract_and_take_the_larger():
    a, b = Cost(1, 10, 0.5, 2.0), Cost(3, 5, 0.25, 4.0)
    assert a + b == Cost(4, 15, 0.75, 6.0) and (a + b) - b == a and a.at_least(b) == Cost(3, 10, 0.5, 4.0)


def test_the_estimate_reads_beside_what_was_used():
    assert describe(Cost(420, 12345, 0.01, 61.0), priced=True) == "~420 LM calls, ~12,345 tokens, ~61 s, ~$0.0100"
    assert describe(Cost(420, 12345, 0.01, 61.0), priced=False, ceiling=Cost(420, 40000, 0.04, 300.0)) == (
        "~420 LM calls, ~12,345 tokens, ~61 s; if every call wrote up to its token limit: ~40,000 tokens, ~300 s")
    assert compared(Cost(420, 1000, 0.0, 60.0), Cost(433, 2000, 0.0, 0.0), priced=False) == (
        "calls 420 / 433 (0.97), tokens 1,000 / 2,000 (0.50), seconds 60 / 0")
    assert compared(Cost(593, 1000, 0.0, 360.0), Cost(0, 0, 0.0, 0.3), priced=False) == (
        "calls 593 / 0, tokens 1,000 / 0, seconds 360 / 0")
