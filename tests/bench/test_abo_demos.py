"""bench/abo_demos.py: a row counted from a run's own events (the initial step only), refusals sorted by the
check's reason, and each arm's totals."""

from __future__ import annotations

import argparse

import pytest

from tests.bench.helpers import load_bench
from tests.optimizers.helpers import build, kind_of, optimizer_answer


@pytest.mark.parametrize("reason, kind", [
    ("reaches '4', not the gold answer '14'", "wrong answer"),
    ("the steps work out 4, not the answer 14", "wrong answer"),
    ("no final 'Answer:' line", "no Answer line"),
    ("step 2 restates the step instead of giving its result for this input", "step restated"),
    ("about 120 tokens long: a target that may write 96 would be cut off before its answer", "too long"),
    ("step 3 is missing", "steps not followed"),
    ("steps are out of order", "steps not followed"),
])
def test_a_refusal_is_sorted_by_its_reason(reason, kind):
    assert load_bench("abo_demos").refusal_kind(reason) == kind


def test_a_row_counts_procedures_kept_and_demonstrations_refused(tmp_path, monkeypatch):
    demos = load_bench("abo_demos")

    demos_asked = []

    def reply(request):  # the first procedure's one demonstration misses the answer; the others pass
        if kind_of(request) == "abo_demo":
            demos_asked.append(request)
            if len(demos_asked) == 1:
                return "Step 1: done\nStep 2: done\nAnswer: 999"
        return optimizer_answer(request)

    h = build(tmp_path, "abo", steps=0, opt_reply=reply, abo_demo_tries=1)
    monkeypatch.setattr(demos.harness, "reuse_or_optimize", lambda *a, **k: h.run())
    monkeypatch.setattr(demos.harness, "RUNS", tmp_path)
    name = demos.row_name("demo:navigate", "today", 0)
    (tmp_path / "abo-demos").mkdir()
    (tmp_path / "abo-demos" / name).symlink_to(h.rundir.path)
    row = demos.run_row("demo:navigate", "today", 0, argparse.Namespace(target="t", optimizer="o", procedures=3,
                                                                         data_dir=None, preset="quick", threads=1))
    asked = len(h.requests_of("abo_demo"))
    assert row["demos_asked"] == asked == 3 and row["demos_refused"] == 1 and row["refusals"] == {"wrong answer": 1}
    assert (row["kept"], row["dropped_no_demo"], row["dropped_other"]) == (2, 1, 0)


def test_the_table_totals_each_arm():
    demos = load_bench("abo_demos")
    rows = [{"task": "t", "arm": arm, "seed": seed, "procedures": 4, "kept": kept, "demos_asked": 6,
             "demos_refused": refused, "refusals": {"wrong answer": refused}, "wall_s": 10.0}
            for arm, seed, kept, refused in (("today", 0, 2, 4), ("today", 1, 1, 5), ("repair", 0, 4, 2))]
    text = demos.table(rows)
    assert "| today | 3 / 8 | 9 / 12 |" in text and "| repair | 4 / 4 | 2 / 6 |" in text
