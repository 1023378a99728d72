"""bench/procedures.py's hand-written demonstrations must pass the check ABO applies to the optimizer's own."""

from __future__ import annotations

import pytest

from behavopt.optimizers.behavior import demo_problem
from behavopt.optimizers.settings import preset
from behavopt.tasks import load_task
from tests.bench.helpers import load_bench


@pytest.mark.data
def test_hand_demonstrations_pass_abo_check(data_dir):
    bench = load_bench("procedures")
    procedures = bench.PROCEDURES
    settings = preset("quick")
    for task_spec, prompts in procedures.items():
        task = load_task(task_spec, data_dir=data_dir)
        train = task.split(settings.data.train_size, settings.data.dev_size, settings.data.test_size, seed=0).train
        for name, entry in prompts.items():
            for index, worked in bench.worked_examples(entry):
                assert demo_problem(task, train[index], worked, entry[0]) is None, (task_spec, name)
                assert worked.rstrip().endswith(f"Answer: {train[index].target}"), (task_spec, name)
        if task_spec == "bbh:navigate":  # the copying control: two demonstrations that answer differently
            two = bench.worked_examples(prompts["signed-totals-two-demos"])
            assert len({train[index].target for index, _ in two}) == 2
