"""bench/abo_levers.py: refusals counted per purpose from a run's own events, and each lever's best set against
today's on the same test examples."""

from __future__ import annotations

from tests.bench.helpers import load_bench
from tests.optimizers.helpers import build, kind_of, optimizer_answer


def test_replies_count_each_purpose_asked_and_refused(tmp_path):
    levers = load_bench("abo_levers")

    def reply(request):
        return "Just be careful." if kind_of(request) == "abo_refine" else optimizer_answer(request)

    h = build(tmp_path, "abo", steps=1, opt_reply=reply)
    h.run()
    counts = levers.replies(h.rundir.path)
    refine_asked = len(h.requests_of("abo_refine"))
    assert counts["refine"] == {"asked": refine_asked, "unusable": refine_asked} and refine_asked > 0
    assert counts["procedure"]["asked"] == len(h.requests_of("abo_procedure"))
    assert counts["procedure"]["unusable"] == 0 and counts["localize"]["unusable"] == 0


def test_replies_count_the_demonstrations_asked_of_the_target(tmp_path):
    levers = load_bench("abo_levers")

    def reply(request):
        return "Step 1: done\nAnswer: 999" if kind_of(request) == "abo_demo" else optimizer_answer(request)

    h = build(tmp_path, "abo", steps=0, opt_reply=reply, abo_target_demos=2)
    h.run()
    counts = levers.replies(h.rundir.path)
    # the scripted target writes no steps, so none of its outputs can be a demonstration
    assert counts["target_demo"] == {"asked": 3, "unusable": 3}
    assert counts["demonstration"]["unusable"] == counts["demonstration"]["asked"] > 0


def row(lever: str, scores: list[float], ids=("a", "b", "c", "d")) -> dict:
    replies = {"procedure": {"asked": 3, "unusable": 1}}
    return {"task": "bbh:navigate", "lever": lever, "seed": 0, "initial_test": 0.5, "best_test": sum(scores) / 4,
            "test_comparison": {"p_value": 0.5}, "test_ids": list(ids), "test_scores": scores,
            "best_test_kappa": 0.1, "kappa_pick": {"test": 0.5}, "candidates_scored": 5,
            "calls": {"target": 100, "optimizer": 20}, "wall_s": 60.0, "replies": replies}


def test_the_table_sets_each_lever_against_today_on_the_same_examples():
    levers = load_bench("abo_levers")
    lines = levers.table([row("today", [0, 0, 1, 1]), row("json", [1, 1, 1, 0]),
                          row("successes", [1, 1, 1, 1], ids=("a", "b", "c", "e"))]).splitlines()
    cells = {c[1]: c for c in ([x.strip() for x in line.split("|")][1:-1] for line in lines[2:])}
    assert cells["today"][6] == "-"  # today is not set against itself
    assert cells["json"][6] == "2/1, p = 1" and cells["json"][-1] == "1/3 / - / - / - / -"
    assert cells["successes"][6] == "-"  # other test examples: no paired comparison
