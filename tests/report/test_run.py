"""The run report from a finished run's files: every candidate in the lineage once, under its parent; the examples
fixed and regressed agree with the run's own paired test; text from the run is escaped; an unfinished run gets a
report of what it has."""

from __future__ import annotations

import dataclasses
import re

from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.rundir import RunDir
from behavopt.report.run import build_run_report, write_run_report


def walk(nodes, parent=None):
    for n in nodes:
        yield n, parent
        yield from walk(n.children, n)


def test_the_lineage_holds_every_candidate_once_under_its_parent(finished_run):
    out = finished_run("apo")
    report = build_run_report(out)
    state = RunDir(out).load_checkpoint()
    seen = list(walk(report.lineage))
    assert sorted(n.id for n, _ in seen) == sorted(state.candidates)
    for node, parent in seen:
        candidate = state.candidates[node.id]
        assert (parent.id if parent else None) == candidate.parent
        assert node.dev_score == state.dev_scores.get(node.id) and node.feedback == candidate.feedback
        assert (node.diff is None) == (parent is None)
    assert [n.id for n, _ in seen if n.best] == [report.result.best_candidate]


def test_fixed_and_regressed_examples_agree_with_the_paired_test(finished_run):
    out = finished_run("apo")
    report = build_run_report(out)
    result = OptimizationResult.load(out / "result.json")
    counts = report.status_counts
    assert counts["fixed"] == result.test_comparison.better and counts["regressed"] == result.test_comparison.worse
    assert sum(counts.values()) == result.test_size and counts["missing"] == 0


def test_the_page_shows_each_part_and_keeps_run_text_inert(finished_run, monkeypatch):
    out = finished_run("abo", steps=1)
    report = build_run_report(out)
    assert report.behavior is not None and report.behavior.steps  # ABO's best procedure and its figures
    page = write_run_report(out).read_text()
    for part in ('id="outcome"', 'id="cost"', 'id="dev-plot"', 'id="lineage-tree"', 'id="examples-table"',
                 'id="settings"', "<svg"):
        assert part in page, part
    assert page.count('class="node"') == len(RunDir(out).load_checkpoint().candidates)
    assert "http://" not in re.sub(r'xmlns(:\w+)?="http://[^"]+"', "", page)  # nothing fetched when viewed
    assert "<script>" in page and page.count("<script") == 1  # the page's own filter script only


def test_model_output_is_escaped_on_the_page(finished_run, tmp_path):
    out = finished_run("apo")
    rundir = RunDir(out)
    path = rundir.records_path(OptimizationResult.load(rundir.result_path).best_candidate)
    text = path.read_text().replace("Answer:", "<script>alert(1)</script> Answer:")
    path.write_text(text)
    page = write_run_report(out).read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_unfinished_run_gets_a_report_of_what_it_has(finished_run):
    out = finished_run("apo")
    (out / "result.json").unlink()
    page = write_run_report(out).read_text()
    assert "not finished" in page and 'id="lineage-tree"' in page and 'id="examples-table"' not in page


def test_abo_shows_its_best_procedure_when_the_instruction_won(finished_run):
    from behavopt.report.run import behavior_view

    out = finished_run("abo", steps=1)
    result = OptimizationResult.load(out / "result.json")
    procedures = [c for s in result.steps for c in s.candidates if c.figures and c.figures.steps]
    won_by_instruction = dataclasses.replace(result, best_candidate="c0000")
    view = behavior_view(won_by_instruction)
    assert view is not None and not view.best_overall
    assert view.dev_score == max(c.dev_score for c in procedures if not c.early_stopped)


def test_the_optimizers_refused_replies_are_counted_per_purpose(finished_run):
    from behavopt.optimizers.events import OptimizerCall, ReplyUnusable
    from behavopt.study.runview import RunView

    out = finished_run("abo", steps=1)
    view = RunView.load(out)
    replies = {purpose: (asked, refused) for purpose, asked, refused in build_run_report(out).replies}
    assert sum(a for a, _ in replies.values()) == len(view.events_of(OptimizerCall))
    assert sum(r for _, r in replies.values()) == len(view.events_of(ReplyUnusable))
    assert {"procedure", "demonstration"} <= set(replies)


def test_the_page_says_which_rule_returned_the_prompt_and_why(finished_run):
    out = finished_run("apo", steps=1, dev_size=4, pick="significant")
    report = build_run_report(out)
    assert report.pick is not None and report.pick.rule == "significant"
    assert report.pick.candidate == report.result.best_candidate
    page = write_run_report(out).read_text()
    assert 'id="pick"' in page and "kept the initial instruction" in page
