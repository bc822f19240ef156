"""Verb ``jobs``, and the ``--executor`` options ``realnet sweep`` and ``realnet score`` share.

    realnet sweep --release R --subjects 1-10 --variants realnet,unpaired --init-weights realnet_base_cornet_s \\
        --executor slurm --partition gpu --gpus-per-node 1 --time 30
    realnet score --models 'realnet_s*' --executor slurm --partition gpu --time 60
    realnet jobs                          # every sweep: its jobs' states
    realnet jobs --sweep train-3f2a       # one sweep: each job's state, logs and error
    realnet sweep ... --retry-failed      # the same command again: resubmit the failed or killed jobs

The jobs are submitted through submitit (:mod:`realnet_plugins.executors`); ``--executor local``
runs them as processes on this machine and waits for them.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:
    from realnet_plugins.executors import ExecutorOptions, JobRecord, Selection, SweepRecord

#: Values of ``--executor``: ``processes`` is the in-process behaviour (no jobs).
EXECUTOR_CHOICES: tuple[str, ...] = ("processes", "local", "slurm")


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--executor`` and the job options (SLURM resources) to a verb's parser."""
    group = parser.add_argument_group(
        "jobs (submitit)", "run each task as a job: --executor slurm submits one SLURM job array; --executor local "
                           "runs the jobs as processes on this machine and waits for them. Follow them with "
                           "`realnet jobs`; a failed or killed job is resubmitted by the same command with "
                           "--retry-failed (a training run continues from its last saved state).")
    group.add_argument("--executor", choices=EXECUTOR_CHOICES, default="processes",
                       help="processes (default): no jobs, work in this command; local: submitit jobs on this "
                            "machine; slurm: a SLURM job array")
    group.add_argument("--partition", help="SLURM partition (default: the cluster's)")
    group.add_argument("--gpus-per-node", type=int, metavar="G",
                       help="GPUs per job (SLURM default 1; local default: this machine's GPUs, shared); one run "
                            "uses one GPU")
    group.add_argument("--time", metavar="T", help="time limit of each job: minutes or H:MM:SS (required on SLURM)")
    group.add_argument("--cpus-per-task", type=int, metavar="N",
                       help="CPU cores per job, also its torch threads (local default: the CPUs shared out)")
    group.add_argument("--mem", metavar="SIZE", help="memory per SLURM job, e.g. 32G")
    group.add_argument("--array-parallelism", type=int, metavar="K",
                       help="the most jobs running at once (SLURM default 256, local default 1)")
    group.add_argument("--account", help="SLURM account to charge")
    group.add_argument("--qos", help="SLURM quality of service")
    group.add_argument("--setup", action="append", default=[], metavar="CMD",
                       help="shell command run before each job, e.g. 'module load cuda' (repeatable)")


def executor_options(args: argparse.Namespace) -> ExecutorOptions | None:
    """The :class:`~realnet_plugins.executors.ExecutorOptions` of the parsed options, or None for ``processes``.

    Raises:
        UsageError: a job option without ``--executor local|slurm``, or a bad value.
    """
    from realnet_plugins.errors import UsageError
    from realnet_plugins.executors import ExecutorOptions, parse_mem_gb, parse_time_minutes

    names = ("partition", "gpus_per_node", "time", "cpus_per_task", "mem", "array_parallelism", "account", "qos")
    given = [name for name in names if getattr(args, name) is not None] + (["setup"] if args.setup else [])
    if args.executor == "processes":
        if given:
            raise UsageError(f"{', '.join('--' + n.replace('_', '-') for n in given)} only apply to jobs: add "
                             "--executor slurm (or --executor local)")
        return None
    options = ExecutorOptions(
        executor=args.executor, partition=args.partition, gpus_per_node=args.gpus_per_node,
        time_min=None if args.time is None else parse_time_minutes(args.time), cpus_per_task=args.cpus_per_task,
        mem_gb=None if args.mem is None else parse_mem_gb(args.mem), array_parallelism=args.array_parallelism,
        account=args.account, qos=args.qos, setup=tuple(args.setup),
    )
    options.check()
    return options


def _command_line(verb: str) -> str:
    return "realnet " + " ".join(shlex.quote(a) for a in sys.argv[sys.argv.index(verb):]) \
        if verb in sys.argv else f"realnet {verb}"


def _job_end_printer(verb: str, done: str) -> Callable[[JobRecord], None]:
    """Print one line per local job that ends: ``<done>: <result>``, or its failure on stderr."""
    def report(job: JobRecord) -> None:
        if job.state == "COMPLETED":
            print(f"{done}: {job.result}" if verb == "sweep" else f"{done}: {job.task}: {job.result}")
        else:
            print(f"realnet {verb}: job {job.job_id} of {job.task} {job.state}: {job.error} (log: {job.stderr})",
                  file=sys.stderr)
    return report


def _report_failures(verb: str, failed: Sequence[JobRecord], left: dict[str, JobRecord], sweep: str) -> int:
    """Print the failed jobs left alone and a summary; return the exit status (1 if any job failed)."""
    for name, job in left.items():
        print(f"realnet {verb}: {name} failed before (job {job.job_id}, {job.state}: {job.error}); not resubmitted "
              "without --retry-failed", file=sys.stderr)
    if failed or left:
        print(f"realnet {verb}: {len(failed) + len(left)} job(s) failed; see `realnet jobs --sweep {sweep}`, fix the "
              "cause and rerun this command with --retry-failed", file=sys.stderr)
        return 1
    return 0


def _announce(selection: Selection, submitted: SweepRecord | None, sweep: str, options: ExecutorOptions) -> None:
    for name, job in selection.active.items():
        print(f"running: {name} (job {job.job_id}, {job.state}); not submitted again")
    if options.executor == "slurm" and submitted is not None and selection.submit:
        first = submitted.jobs[selection.submit[0].name].job_id.split("_")[0]
        print(f"submitted {len(selection.submit)} job(s) to SLURM (job {first}); follow them with "
              f"`realnet jobs --sweep {sweep}`")


def run_sweep_jobs(configs: Sequence[Any], args: argparse.Namespace) -> int:
    """``realnet sweep --executor local|slurm``: one job per run that has no checkpoint yet.

    Args:
        configs: the sweep's runs (unresolved :class:`~realnet_plugins.training.TrainConfig`).
        args: the parsed options (executor options, ``overwrite``, ``retry_failed``, ``no_progress``).

    Returns:
        0, or 1 when a job failed (or a failed one was left alone).
    """
    from pathlib import Path

    from realnet_plugins.errors import UsageError
    from realnet_plugins.executors import select_tasks, submit_jobs, sweep_id, train_task

    options = executor_options(args)
    if options is None:
        raise ValueError("run_sweep_jobs needs --executor local or slurm")
    if args.overwrite:
        raise UsageError("--overwrite does not combine with --executor: a resubmitted job would start over again; "
                         "delete the checkpoints to retrain, then rerun without --overwrite")
    if args.concurrent != 1 or args.processes != 1:
        raise UsageError("--concurrent and --processes are for --executor processes; with jobs, "
                         "--array-parallelism sets how many run at once")
    tasks = [train_task(config, threads=options.threads()) for config in configs]
    sweep = sweep_id("train", [task.name for task in tasks])
    pending = []
    for task in tasks:
        if Path(task.target).is_file():
            print(f"skip (finished): {task.target}")
        else:
            pending.append(task)
    selection = select_tasks(pending, "train", sweep, retry_failed=args.retry_failed)
    record = None
    if selection.submit:
        record = submit_jobs(selection.submit, options, sweep=sweep, kind="train", command=_command_line("sweep"),
                             progress=not args.no_progress, on_end=_job_end_printer("sweep", "trained"))
    _announce(selection, record, sweep, options)
    failed = [] if record is None else [record.jobs[task.name] for task in selection.submit
                                        if record.jobs[task.name].failed]
    return _report_failures("sweep", failed, selection.failed, sweep)


def _number(attrs: dict[str, Any], name: str) -> float:
    value = attrs.get(name)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")


def run_score_jobs(args: argparse.Namespace) -> int:
    """``realnet score --executor local|slurm``: one job per (model, benchmark) not in the score store.

    Locally the jobs are waited for and the table printed as without jobs; on SLURM the command
    returns after submitting (rerun it once the jobs ended to print the table).
    """
    import pandas as pd

    from realnet_plugins.errors import UsageError
    from realnet_plugins.executors import ScoreTask, select_tasks, submit_jobs, sweep_id
    from realnet_plugins.paths import realnet_home
    from realnet_plugins.report.scores import SCORE_COLUMNS, ScoreStore, ScoreTable
    from realnet_plugins.report.selection import resolve_models
    from realnet_plugins.storage import atomic_write

    options = executor_options(args)
    if options is None:
        raise ValueError("run_score_jobs needs --executor local or slurm")
    benchmarks = list(dict.fromkeys(args.benchmarks))
    if not benchmarks:
        raise UsageError("no benchmark to score: name at least one benchmark identifier")
    models, notes = resolve_models(args.models)
    if not models:
        raise UsageError("no model to score: " + ("; ".join(notes) if notes else "name at least one model"))
    store = ScoreStore()
    home = str(realnet_home().expanduser().resolve())
    pairs = [(model, benchmark) for model in models for benchmark in benchmarks]
    stored, stored_failures, tasks = {}, {}, []
    for model, benchmark in pairs:
        name = f"{model.brainscore_id}--{benchmark}"
        record = store.cached(model, benchmark)  # checks the benchmark and the model before anything is submitted
        if record is not None:
            stored[name] = record
            continue
        failure = None if args.retry_failed else store._stored_failure(store.key_parts(model, benchmark))
        if failure is not None:
            stored_failures[name] = failure[1]
            continue
        tasks.append(ScoreTask(model=model.brainscore_id, benchmark=benchmark, home=home,
                               retry_failed=args.retry_failed, threads=options.threads()))
    sweep = sweep_id("score", [f"{model.brainscore_id}--{benchmark}" for model, benchmark in pairs])
    selection = select_tasks(tasks, "score", sweep, retry_failed=args.retry_failed)
    submitted = None
    if selection.submit:
        submitted = submit_jobs(selection.submit, options, sweep=sweep, kind="score", command=_command_line("score"),
                                progress=False if args.quiet else None, on_end=_job_end_printer("score", "scored"))
    _announce(selection, submitted, sweep, options)
    if options.executor == "slurm" and selection.submit:
        print("rerun this command once the jobs ended to print the table (nothing is scored twice)")
        return 0
    for note in notes:
        print(f"note: {note}")
    reasons = dict(stored_failures)
    for name, job in selection.failed.items():
        reasons[name] = f"job {job.job_id} {job.state}: {job.error} (rerun with --retry-failed)"
    for task in selection.submit:
        job = submitted.jobs[task.name]
        if job.failed:
            reasons[task.name] = f"job {job.job_id} {job.state}: {job.error}"
    rows, flags = [], []
    for model, benchmark in pairs:
        name = f"{model.brainscore_id}--{benchmark}"
        record = stored.get(name) or store.cached(model, benchmark)
        if record is not None:
            flags += [f"{model.short_name} on {benchmark}: {flag}" for flag in record.attrs.get("flags") or []]
            rows.append({"model": model.short_name, "benchmark": benchmark, "score": float(record.value),
                         "ceiling": _number(record.attrs, "ceiling"), "raw": _number(record.attrs, "raw"),
                         "source": "stored" if name in stored else "computed", "error": ""})
        elif name in selection.active:
            rows.append({"model": model.short_name, "benchmark": benchmark, "source": "pending",
                         "error": f"job {selection.active[name].job_id} {selection.active[name].state}"})
        else:
            rows.append({"model": model.short_name, "benchmark": benchmark, "source": "failed",
                         "error": reasons.get(name, "not scored")})
    frame = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    counts = frame["source"].value_counts()
    table = ScoreTable(table=frame, notes=notes, computed=int(counts.get("computed", 0)),
                       stored=int(counts.get("stored", 0)), failed=int(counts.get("failed", 0)), flags=flags)
    print(table.format())
    pending = int(counts.get("pending", 0))
    print(f"{table.computed} computed by jobs, {table.stored} from the store, {table.failed} failed"
          + (f", {pending} pending" if pending else ""))
    if args.csv:
        with atomic_write(args.csv, "w") as f:
            table.table.to_csv(f, index=False)
        print(f"wrote {args.csv}")
    return 1 if table.failed else 0


# --------------------------------------------------------------------------------------- the verb
def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    """Options of ``realnet jobs``."""
    parser.add_argument("--sweep", metavar="ID",
                        help="one sweep (its id or a unique prefix): list each job's state, logs and error")
    parser.add_argument("--json", action="store_true", help="print the records as JSON")


def _job_rows(record: SweepRecord) -> list[str]:
    header = ("task", "job", "try", "state", "logs", "error")
    rows = [header] + [
        (job.task, job.job_id, str(job.attempt), job.state, job.stdout.rsplit(".", 1)[0] + ".{out,err}",
         job.error) for job in record.jobs.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]


def run(args: argparse.Namespace) -> int:
    """List the sweeps (or one sweep's jobs) with their states, read afresh."""
    from realnet_plugins.executors import find_sweep, jobs_dir, list_sweeps, refresh

    records = [find_sweep(args.sweep)] if args.sweep else list_sweeps()
    records = [refresh(record) for record in records]
    if args.json:
        print(json.dumps([record.to_json() for record in records], indent=1))
        return 0
    if not records:
        print(f"no jobs under {jobs_dir()}")
        return 0
    for record in records:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(record.counts().items()))
        print(f"{record.sweep}  {record.executor}  {len(record.jobs)} jobs: {counts}  (since {record.created_utc})")
        print(f"  {record.command}")
        if args.sweep:
            for line in _job_rows(record):
                print("  " + line.rstrip())
    if not args.sweep:
        print("`realnet jobs --sweep ID` lists one sweep's jobs with their logs and errors")
    return 0
