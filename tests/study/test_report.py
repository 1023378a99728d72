"""A study experiment's results.json is written with its schema_version and read back typed; a file from before
the version was written (version 0) still reads, and a newer or foreign one is refused in one line."""

import json

import pytest

from behavopt.core.schema import SchemaError
from behavopt.study.experiments.base import ExperimentReport, Finding
from behavopt.study.report import load_report, write_report


def report() -> ExperimentReport:
    setup = {"task": "t", "target": "m", "optimizer": "m", "preset": "quick", "seeds": [0]}
    return ExperimentReport(experiment="paraphrase", setup=setup,
                            findings=[Finding("a finding", "the study's claim", "ours", True, "x.png", {"n": 1})],
                            per_seed=[{"seed": 0, "gain": float("nan")}], runs=["runs/apo-s0"])


def test_results_round_trip_with_their_version(tmp_path):
    write_report(report(), tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert next(iter(data)) == "schema_version" and data["schema_version"] == 1
    back = load_report(tmp_path / "results.json")
    assert back.findings == report().findings and back.per_seed == [{"seed": 0, "gain": None}]


def test_a_version_0_file_still_reads(tmp_path):
    data = json.loads(json.dumps(report().to_dict(), default=str).replace("NaN", "null"))
    (tmp_path / "results.json").write_text(json.dumps(data))
    assert load_report(tmp_path / "results.json").experiment == "paraphrase"


@pytest.mark.parametrize("content, message", [({"schema_version": 9}, "schema_version 9"),
                                              ({"schema_version": 1, "experiment": 3}, "not a valid ExperimentReport")])
def test_a_newer_or_foreign_file_is_refused_in_one_line(tmp_path, content, message):
    (tmp_path / "results.json").write_text(json.dumps(content))
    with pytest.raises(SchemaError, match=message) as info:
        load_report(tmp_path / "results.json")
    assert "\n" not in str(info.value)
