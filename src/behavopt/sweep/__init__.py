"""Sweeps: the cross product of tasks, methods, seeds and models from a YAML file, each an ordinary run directory,
run by worker processes on this machine or as Ray tasks on a cluster; finished runs are skipped and interrupted ones
resumed on restart, and the sweep ends with one summary table and one compare report.

    spec       the sweep file, typed, and the runs it names
    worker     one run, made, resumed or reused: what every executor calls
    executors  local worker processes, or Ray tasks with resources per run
    summary    the sweep's record (sweep.json), the table and the compare report of the finished runs
    driver     a sweep from start (or restart) to its summary
"""
