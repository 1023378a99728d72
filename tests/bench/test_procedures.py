"""bench/procedures.py's hand-written demonstrations must pass the check ABO applies to the optimizer's own."""

from __future__ import annotations

import pytest

from behavopt.optimizers.behavior import demo_problem
from behavopt.optimizers.settings import preset
from behavopt.tasks import load_task
from tests.bench.helpers import load_bench


@pytest.mark.data
def test_hand_demonstrations_pass_abo_check(data_dir):
    procedures = load_bench("procedures").PROCEDURES
    settings = preset("quick")
    for task_spec, prompts in procedures.items():
        task = load_task(task_spec, data_dir=data_dir)
        train = task.split(settings.train_size, settings.dev_size, settings.test_size, seed=0).train
        for name, (steps, index, worked) in prompts.items():
            assert demo_problem(task, train[index], worked, steps) is None, (task_spec, name)
            assert worked.rstrip().endswith(f"Answer: {train[index].target}"), (task_spec, name)
