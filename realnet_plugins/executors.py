"""Sweeps and scorings as jobs through submitit: SLURM job arrays, or local jobs on this machine.

    >>> from realnet_plugins.executors import ExecutorOptions, submit_jobs, sweep_id, train_task
    >>> tasks = [train_task(config) for config in configs]          # TrainConfig → one resumable run each
    >>> record = submit_jobs(tasks, ExecutorOptions("slurm", partition="gpu", gpus_per_node=1, time_min=60),
    ...                      sweep=sweep_id("train", [t.name for t in tasks]), kind="train")

A task is a picklable callable that submitit runs in a job: :class:`TrainTask` trains one run with
:func:`realnet_plugins.training.train` (which resumes from ``runs/<name>/resume.pt``), and
:class:`ScoreTask` scores one model on one benchmark into the score store
(:func:`realnet_plugins.report.scores.score_table`). Both work in ``$REALNET_HOME`` as the submitting
command saw it (a shared file system on a cluster), so checkpoints and scores land where an
in-process sweep or scorer puts them. A job that fails or is killed is submitted again, unchanged,
by the next call that asks for it (``--retry-failed``): the run continues from its last saved state.

Where things are kept, for a sweep ``<id>`` (``train-<16 hex>`` or ``score-<16 hex>``, a fingerprint
of the task names, so the same command finds its sweep again)::

    $REALNET_HOME/jobs/<id>/jobs.json            the record: one entry per task (job id, state, logs, error)
    $REALNET_HOME/jobs/<id>/outcomes/<task>.json written by the job when its task ends or fails
    $REALNET_HOME/jobs/<id>/logs/<job id>/       submitit's folder: pickles, <job id>_0_log.out/.err

A job's state is read from its outcome file (``COMPLETED`` / ``FAILED`` with the error), else from
the machine: a local job whose process is gone is ``INTERRUPTED`` (killed), a SLURM job has its
``sacct`` state (``PENDING``, ``RUNNING``, ``TIMEOUT``, ``OUT_OF_MEMORY``, ``NODE_FAIL``, ...).

On SLURM, a job reaching its time limit gets submitit's signal (``USR2``, 90 s ahead; a pre-empted
job too where the cluster sets ``SlurmctldParameters=preempt_send_user_signal``): a training task
then stops at the next step boundary with its resume state saved, and submitit requeues the job,
which resumes (at most three times for time limits, submitit's default).

submitit is imported only where a job is submitted or its SLURM state read (``pip install
realnet-plugins[cluster]``); the records can be read without it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import io
import json
import logging
import math
import os
import re
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

from realnet_plugins.errors import DataFormatError, RealnetError, UsageError
from realnet_plugins.paths import realnet_home
from realnet_plugins.storage import atomic_write, fingerprint, process_alive

__all__ = [
    "EXECUTORS", "ACTIVE_STATES", "ExecutorOptions", "JobTask", "TrainTask", "ScoreTask", "JobRecord", "SweepRecord",
    "Selection", "JobFailedError", "train_task", "sweep_id", "jobs_dir", "parse_time_minutes", "parse_mem_gb",
    "load_sweep", "find_sweep", "list_sweeps", "refresh", "select_tasks", "submit_jobs",
]

log = logging.getLogger(__name__)

#: Where jobs run: ``local`` (submitit's LocalExecutor: processes on this machine) or ``slurm``.
EXECUTORS: tuple[str, ...] = ("local", "slurm")
#: States of a job that may still run (never submitted again while in one of them). ``SUBMITTED``:
#: not seen by the scheduler yet; ``UNKNOWN``: ``sacct`` could not tell.
ACTIVE_STATES: frozenset[str] = frozenset({
    "SUBMITTED", "UNKNOWN", "PENDING", "RUNNING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING",
    "COMPLETING", "RESIZING", "SUSPENDED", "STAGE_OUT", "SIGNALING",
})
RECORD_FORMAT = "realnet-jobs"
RECORD_VERSION = 1
OUTCOME_FORMAT = "realnet-job-outcome"
#: Time limit of local jobs when none is given (submitit's own default would stop them after 2 minutes).
LOCAL_DEFAULT_TIME_MIN = 7 * 24 * 60


def jobs_dir() -> Path:
    """``$REALNET_HOME/jobs``: one folder per sweep."""
    return realnet_home() / "jobs"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def sweep_id(kind: str, names: Sequence[str]) -> str:
    """The id of the sweep of ``kind`` (``"train"``, ``"score"``) over these task names: ``<kind>-<16 hex>``.

    It depends on the set of names only, so rerunning the same command finds the same record.
    """
    return f"{kind}-{fingerprint('realnet-sweep', kind, sorted(set(names)))}"


# ------------------------------------------------------------------------------------------ options
def parse_time_minutes(text: str) -> int:
    """A SLURM time limit → whole minutes (rounded up).

    Accepts minutes (``"90"``), ``"H:MM:SS"`` (``"1:30:00"``) and ``"D-H:MM:SS"`` (``"2-00:00:00"``).

    Raises:
        UsageError: another form, or not positive.
    """
    text = str(text).strip()
    match = re.fullmatch(r"(?:(?P<days>\d+)-)?(?P<h>\d+):(?P<m>\d{1,2}):(?P<s>\d{1,2})", text)
    if re.fullmatch(r"\d+", text):
        minutes = int(text)
    elif match and int(match["m"]) < 60 and int(match["s"]) < 60:
        seconds = ((int(match["days"] or 0) * 24 + int(match["h"])) * 60 + int(match["m"])) * 60 + int(match["s"])
        minutes = math.ceil(seconds / 60)
    else:
        raise UsageError(f"cannot read the time limit {text!r}: give minutes (90), H:MM:SS (1:30:00) or D-H:MM:SS "
                         "(2-00:00:00)")
    if minutes < 1:
        raise UsageError(f"the time limit must be at least one minute, got {text!r}")
    return minutes


def parse_mem_gb(text: str) -> float:
    """A memory size → GB: ``"32"`` or ``"32G"``/``"32GB"`` (GB), ``"500M"``/``"500MB"`` (MB), ``"1T"`` (TB).

    Raises:
        UsageError: another form, or not positive.
    """
    match = re.fullmatch(r"(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>[MGT]?)B?", str(text).strip().upper())
    if not match or float(match["value"]) <= 0:
        raise UsageError(f"cannot read the memory size {text!r}: give e.g. 32G, 32GB or 500M")
    return float(match["value"]) * {"M": 1 / 1024, "G": 1.0, "": 1.0, "T": 1024.0}[match["unit"]]


@dataclass(frozen=True)
class ExecutorOptions:
    """Where and with what resources the jobs run.

    Attributes:
        executor: ``"local"`` (processes on this machine) or ``"slurm"`` (one job array per call).
        partition: SLURM partition (None: the cluster's default).
        gpus_per_node: GPUs of each job (SLURM default 1; local default: every GPU of this machine,
            all jobs sharing them). One run uses one GPU.
        time_min: time limit of each job in minutes (required on SLURM; local default one week).
        cpus_per_task: CPU cores of each job; also its torch CPU threads (local default: the CPU
            count shared out between the jobs that run at once).
        mem_gb: memory of each job in GB (SLURM only).
        array_parallelism: the most jobs running at once (SLURM default 256; local default 1).
        account: SLURM account to charge.
        qos: SLURM quality of service.
        setup: shell commands run before each job (``module load cuda``, ``source venv/bin/activate``).
    """

    executor: str
    partition: str | None = None
    gpus_per_node: int | None = None
    time_min: int | None = None
    cpus_per_task: int | None = None
    mem_gb: float | None = None
    array_parallelism: int | None = None
    account: str | None = None
    qos: str | None = None
    setup: tuple[str, ...] = ()

    #: Options that only SLURM understands.
    SLURM_ONLY = ("partition", "mem_gb", "account", "qos")

    def check(self) -> None:
        """Raise :class:`UsageError` for an unknown executor, an option it cannot honour, or a bad number."""
        if self.executor not in EXECUTORS:
            raise UsageError(f"unknown executor {self.executor!r}; use one of {', '.join(EXECUTORS)}")
        if self.executor == "local":
            given = [name for name in self.SLURM_ONLY if getattr(self, name) is not None]
            if given:
                raise UsageError(f"{', '.join('--' + n.replace('_gb', '').replace('_', '-') for n in given)} "
                                 "only apply to SLURM jobs; drop them or use --executor slurm")
        elif self.time_min is None:
            raise UsageError("--executor slurm needs --time, each job's time limit (minutes or H:MM:SS); one "
                             "CORnet-S run of 30 epochs takes about 4 min on an H100, so e.g. --time 30")
        for name in ("gpus_per_node", "cpus_per_task", "array_parallelism", "time_min"):
            value = getattr(self, name)
            if value is not None and value < (0 if name == "gpus_per_node" else 1):
                raise UsageError(f"--{name.replace('_min', '').replace('_', '-')} must be at least "
                                 f"{0 if name == 'gpus_per_node' else 1}, got {value}")

    @property
    def parallelism(self) -> int:
        """The most jobs at once (local default 1, SLURM default 256)."""
        if self.array_parallelism is not None:
            return self.array_parallelism
        return 1 if self.executor == "local" else 256

    def threads(self) -> int | None:
        """Torch CPU threads of each job: ``cpus_per_task``; locally by default the CPUs shared out."""
        if self.cpus_per_task is not None:
            return self.cpus_per_task
        if self.executor == "local":
            return max(1, (os.cpu_count() or 1) // self.parallelism)
        return None


# -------------------------------------------------------------------------------------------- tasks
class JobTask(Protocol):
    """What :func:`submit_jobs` runs: a picklable callable with a name unique within its sweep."""

    name: str
    outcome_dir: str

    def __call__(self) -> str:
        """Do the work in the job; return a one-line description of the result."""


class JobFailedError(RealnetError):
    """A task finished without its result (a score that could not be computed)."""


def _job_id_here() -> str:
    """The submitit job id of the running job ("" outside submitit)."""
    try:
        import submitit

        return str(submitit.JobEnvironment().job_id)
    except (ImportError, KeyError, RuntimeError):
        return ""


def _write_outcome(folder: str, name: str, state: str, *, result: str = "", error: str = "") -> None:
    record = {"format": OUTCOME_FORMAT, "task": name, "job_id": _job_id_here(), "state": state, "result": result,
              "error": error, "finished_utc": _now()}
    with atomic_write(Path(folder) / f"{name}.json", "w") as f:
        json.dump(record, f)


def _in_job(task: Any, work: Callable[[], str]) -> str:
    """Run a task's work in a job: its ``$REALNET_HOME`` and threads, and an outcome file when it ends or fails.

    An interruption (Ctrl-C, a requeue's exit) writes no outcome: the job did not end.
    """
    os.environ["REALNET_HOME"] = task.home
    os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if task.threads is not None:
        import torch

        torch.set_num_threads(int(task.threads))
    try:
        result = work()
    except Exception as error:
        _write_outcome(task.outcome_dir, task.name, "FAILED", error=f"{type(error).__name__}: {error}")
        raise
    _write_outcome(task.outcome_dir, task.name, "COMPLETED", result=result)
    return result


@contextlib.contextmanager
def _resume_state_saved_on_requeue_signal() -> Iterator[None]:
    """In a submitit job, turn the pre-emption/time-limit signal into "save and stop, then requeue".

    submitit's handler of that signal (USR2 unless ``SUBMITIT_PREEMPT_SIGNAL`` says otherwise)
    requeues the job at once. Here the signal first becomes a Ctrl-C, which the training loop
    honours at the next step boundary by saving its resume state; then submitit's handler runs
    (it calls ``TrainTask.__submitit_checkpoint__`` and requeues). Outside a submitit job nothing changes.
    """
    try:
        import submitit
    except ImportError:  # called outside submitit, on a machine without it
        submitit = None
    if submitit is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    number = getattr(signal, "SIG" + submitit.JobEnvironment.USR_SIG, None)
    requeue = signal.getsignal(number) if number is not None else None
    if not callable(requeue):
        yield
        return
    caught: list[int] = []

    def stop_at_next_step(signum: int, frame: Any) -> None:
        caught.append(signum)
        signal.raise_signal(signal.SIGINT)

    signal.signal(number, stop_at_next_step)
    try:
        yield
    except KeyboardInterrupt:
        if caught:
            log.warning("caught %s: the resume state is saved; requeueing", signal.Signals(caught[0]).name)
            requeue(caught[0], None)
        raise
    finally:
        signal.signal(number, requeue)


@dataclass(frozen=True)
class TrainTask:
    """One training run as a job: :func:`realnet_plugins.training.train`, resuming from its run folder.

    Attributes:
        config: the run's :class:`~realnet_plugins.training.TrainConfig`, unresolved (device,
            amp and channels_last are resolved where the job runs).
        target: the checkpoint path (absolute).
        home: ``$REALNET_HOME`` of the job (absolute).
        outcome_dir: folder of the sweep's outcome files (set by :func:`submit_jobs`).
        threads: torch CPU threads (None: torch's default).
    """

    config: Any
    target: str
    home: str
    outcome_dir: str = ""
    threads: int | None = None

    @property
    def name(self) -> str:
        """The run's name: the run folder under ``$REALNET_HOME/runs`` (the checkpoint's stem)."""
        return self.config.run_name or Path(self.target).stem

    def __call__(self) -> str:
        """Train (or resume) the run; return the checkpoint path. A finished checkpoint is kept as it is."""
        return _in_job(self, self._train_unless_finished)

    def _train_unless_finished(self) -> str:
        if Path(self.target).is_file():
            return self.target
        with _resume_state_saved_on_requeue_signal():
            return str(self.train())

    def train(self, on_step: Callable[[Any], None] | None = None) -> Path:
        """:func:`~realnet_plugins.training.train` of this run, without progress bars.

        Args:
            on_step: called after every step with a :class:`~realnet_plugins.training.StepInfo`.
        """
        from realnet_plugins.training.loop import train

        return train(self.config, self.target, progress=False, on_step=on_step)

    def __submitit_checkpoint__(self) -> Any:
        """submitit's requeue hook: the same task again (it resumes from the saved state)."""
        import submitit

        return submitit.helpers.DelayedSubmission(self)


def train_task(config: Any, *, threads: int | None = None) -> TrainTask:
    """A :class:`TrainTask` for ``config``, validated here but resolved where the job runs.

    Paths (release, initial weights) are made absolute; the checkpoint is the run's default path.

    Raises:
        ValueError: an invalid configuration (as :meth:`TrainConfig.resolved` says).
    """
    from realnet_plugins.training.loop import default_checkpoint_path

    changes: dict[str, Any] = {"release": str(Path(config.release).expanduser().resolve())}
    if config.init_weights and Path(config.init_weights).expanduser().exists():
        changes["init_weights"] = str(Path(config.init_weights).expanduser().resolve())
    config = dataclasses.replace(config, **changes)
    # The submitting machine may have no GPU: check the rest of the configuration on the CPU.
    checked = dataclasses.replace(config, device="cpu", amp=False, channels_last=False).resolved()
    return TrainTask(config=config, target=str(default_checkpoint_path(checked).resolve()),
                     home=str(realnet_home().expanduser().resolve()), threads=threads)


@dataclass(frozen=True)
class ScoreTask:
    """One (model, benchmark) score as a job, into the score store (:func:`~realnet_plugins.report.scores.score_table`).

    A score that cannot be computed is stored as a failure beside the scores (as ``realnet score
    --keep-going`` does) and fails the job with its reason.

    Attributes:
        model: the model identifier.
        benchmark: the benchmark identifier.
        home: ``$REALNET_HOME`` of the job (absolute).
        outcome_dir: folder of the sweep's outcome files (set by :func:`submit_jobs`).
        retry_failed: score again although a failure of this pair is stored.
        threads: torch CPU threads (None: torch's default).
    """

    model: str
    benchmark: str
    home: str
    outcome_dir: str = ""
    retry_failed: bool = False
    threads: int | None = None

    @property
    def name(self) -> str:
        """``<model>--<benchmark>``."""
        return f"{self.model}--{self.benchmark}"

    def __call__(self) -> str:
        """Score and store; return the score as text."""
        return _in_job(self, self._score)

    def _score(self) -> str:
        from realnet_plugins.report.scores import score_table

        table = score_table([self.model], [self.benchmark], keep_going=True, retry_failed=self.retry_failed,
                            progress=False)
        for note in table.notes:
            log.warning("%s", note)
        if not len(table.table):
            raise JobFailedError(f"nothing scored for {self.model} on {self.benchmark}: {'; '.join(table.notes)}")
        row = table.table.iloc[0]
        if row["source"] == "failed":
            raise JobFailedError(str(row["error"]))
        return f"{float(row['score']):.6g}"

    def __submitit_checkpoint__(self) -> Any:
        """submitit's requeue hook: score again from the start."""
        import submitit

        return submitit.helpers.DelayedSubmission(self)


# ------------------------------------------------------------------------------------------ records
@dataclass
class JobRecord:
    """The latest job of one task.

    Attributes:
        task: the task's name.
        job_id: submitit's job id (local: the job's process id; SLURM: ``<array id>_<index>`` or ``<id>``).
        array_index: index in the SLURM job array (None: not an array).
        attempt: 1 for the first submission, +1 for each resubmission.
        stdout, stderr: the job's log files.
        state: see the module docstring; ``error``: why it failed ("" otherwise); ``result``: what it returned.
        submitted_utc: when it was submitted.
        previous: the earlier attempts (job_id, state, error).
    """

    task: str
    job_id: str
    array_index: int | None
    attempt: int
    stdout: str
    stderr: str
    submitted_utc: str
    state: str = "SUBMITTED"
    error: str = ""
    result: str = ""
    previous: list[dict[str, Any]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Whether the job may still be running."""
        return self.state in ACTIVE_STATES

    @property
    def failed(self) -> bool:
        """Ended without success (failed, killed, timed out, cancelled...)."""
        return not self.active and self.state != "COMPLETED"


@dataclass
class SweepRecord:
    """The jobs of one sweep (``$REALNET_HOME/jobs/<sweep>/jobs.json``).

    Attributes:
        sweep: the sweep id (:func:`sweep_id`).
        kind: ``"train"`` or ``"score"``.
        executor: ``"local"`` or ``"slurm"``.
        command: the command line that submitted it last.
        created_utc: when it was first submitted.
        jobs: task name → its latest :class:`JobRecord`, in submission order.
    """

    sweep: str
    kind: str
    executor: str
    command: str
    created_utc: str
    jobs: dict[str, JobRecord] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return jobs_dir() / self.sweep

    @property
    def path(self) -> Path:
        return self.folder / "jobs.json"

    @property
    def outcome_dir(self) -> Path:
        return self.folder / "outcomes"

    @property
    def log_dir(self) -> Path:
        """submitit's folder pattern (``%j``: the job id)."""
        return self.folder / "logs" / "%j"

    def counts(self) -> dict[str, int]:
        """State → number of jobs."""
        out: dict[str, int] = {}
        for job in self.jobs.values():
            out[job.state] = out.get(job.state, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {"format": RECORD_FORMAT, "format_version": RECORD_VERSION, "sweep": self.sweep, "kind": self.kind,
                "executor": self.executor, "command": self.command, "created_utc": self.created_utc,
                "jobs": [dataclasses.asdict(job) for job in self.jobs.values()]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], path: Path) -> "SweepRecord":
        if data.get("format") != RECORD_FORMAT or data.get("format_version") != RECORD_VERSION:
            raise DataFormatError(f"{path}: expected a {RECORD_FORMAT} record of version {RECORD_VERSION}, found "
                                  f"{data.get('format')!r} version {data.get('format_version')!r}; move the folder "
                                  "away to start the sweep's record afresh")
        jobs = [JobRecord(**job) for job in data["jobs"]]
        return cls(sweep=data["sweep"], kind=data["kind"], executor=data["executor"], command=data["command"],
                   created_utc=data["created_utc"], jobs={job.task: job for job in jobs})

    def save(self) -> None:
        """Write the record atomically."""
        with atomic_write(self.path, "w") as f:
            json.dump(self.to_json(), f, indent=1)


def load_sweep(sweep: str) -> SweepRecord | None:
    """The record of ``sweep``, or None when it was never submitted."""
    path = jobs_dir() / sweep / "jobs.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise DataFormatError(f"{path} is not valid JSON ({error}); move the folder away to start afresh") from None
    return SweepRecord.from_json(data, path)


def list_sweeps() -> list[SweepRecord]:
    """Every sweep under ``$REALNET_HOME/jobs``, oldest first."""
    root = jobs_dir()
    records = [load_sweep(p.parent.name) for p in sorted(root.glob("*/jobs.json"))] if root.is_dir() else []
    return sorted((r for r in records if r is not None), key=lambda r: (r.created_utc, r.sweep))


def find_sweep(prefix: str) -> SweepRecord:
    """The sweep whose id is ``prefix`` or starts with it.

    Raises:
        UsageError: none or several match (the message lists the known ids).
    """
    sweeps = list_sweeps()
    matches = [r for r in sweeps if r.sweep == prefix] or [r for r in sweeps if r.sweep.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(r.sweep for r in sweeps) or "none"
    what = "matches several sweeps" if matches else "is not a sweep"
    raise UsageError(f"{prefix!r} {what} under {jobs_dir()} (known: {known}); run `realnet jobs` to list them")


# ------------------------------------------------------------------------------------------- states
def _read_outcome(record: SweepRecord, job: JobRecord) -> dict[str, Any] | None:
    """The outcome the current job wrote (an outcome of an earlier attempt does not count)."""
    path = record.outcome_dir / f"{job.task}.json"
    if not path.is_file():
        return None
    try:
        outcome = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    if outcome.get("format") != OUTCOME_FORMAT or str(outcome.get("job_id")) != job.job_id:
        return None
    return outcome


def _local_job_alive(job_id: str) -> bool:
    """Whether the local job's process (a shell running submitit's controller) still runs."""
    try:
        pid = int(job_id)
    except ValueError:
        return False
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            status = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            return False
        return status != "Z" and b"submitit" in command
    return process_alive(pid)


def _last_line(path: str) -> str:
    """The last non-empty line of a log file ("" when there is none)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            lines = [line.strip() for line in f.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _slurm_states(job_ids: Sequence[str]) -> dict[str, str]:
    """``sacct``'s state of each job ("UNKNOWN" where it cannot tell)."""
    if not job_ids:
        return {}
    if shutil.which("sacct") is None:
        log.warning("sacct is not on PATH: the states of SLURM jobs are unknown here (run on the cluster)")
        return {job_id: "UNKNOWN" for job_id in job_ids}
    from submitit.slurm.slurm import SlurmInfoWatcher

    watcher = SlurmInfoWatcher(delay_s=0)
    for job_id in job_ids:
        watcher.register_job(job_id)
    watcher.update()
    return {job_id: (watcher.get_state(job_id, mode="cache").split() or ["UNKNOWN"])[0] for job_id in job_ids}


def refresh(record: SweepRecord, running: Mapping[str, Any] | None = None) -> SweepRecord:
    """Update the state of every job that may still run, and save the record.

    Args:
        record: the sweep.
        running: task name → submitit ``LocalJob`` of jobs started by this process (their process
            handle says whether they run; other local jobs are looked up by process id).

    Returns:
        ``record``, updated.
    """
    running = running or {}
    pending = [job for job in record.jobs.values() if job.active]
    outcomes = {job.task: _read_outcome(record, job) for job in pending}
    slurm_ids = [job.job_id for job in pending if outcomes[job.task] is None and record.executor == "slurm"]
    slurm = _slurm_states(slurm_ids)
    for job in pending:
        outcome = outcomes[job.task]
        if outcome is not None:
            job.state, job.error, job.result = str(outcome["state"]), str(outcome["error"]), str(outcome["result"])
            continue
        if record.executor == "local":
            handle = running.get(job.task)
            alive = not handle.done() if handle is not None else _local_job_alive(job.job_id)
            state = "RUNNING" if alive else "INTERRUPTED"
        else:
            state = slurm[job.job_id]
            if state == "COMPLETED":  # the scheduler saw an exit, but the task wrote no outcome
                state = "INTERRUPTED"
        job.state = state
        if state == "INTERRUPTED":
            detail = _last_line(job.stderr)
            job.error = "the job ended without a result (killed: out of memory, a signal or a node failure)" + (
                f"; last log line: {detail}" if detail else "")
        elif not job.active:
            detail = _last_line(job.stderr)
            job.error = f"SLURM ended the job: {state}" + (f"; last log line: {detail}" if detail else "")
    record.save()
    return record


# -------------------------------------------------------------------------------------- submission
@dataclass
class Selection:
    """Which of a sweep's tasks to submit now.

    Attributes:
        submit: tasks to submit (new, or failed and ``retry_failed``).
        active: task name → its job that may still run (this sweep's or another's); not resubmitted.
        failed: task name → its failed job, left alone without ``retry_failed``.
    """

    submit: list[Any]
    active: dict[str, JobRecord]
    failed: dict[str, JobRecord]


def select_tasks(tasks: Sequence[JobTask], kind: str, sweep: str, *, retry_failed: bool) -> Selection:
    """Split ``tasks`` into those to submit, those whose job still runs, and failed ones left alone.

    A task whose job (in this sweep or any other sweep of ``kind``) may still run is never submitted
    again: two jobs would write the same run folder or score.
    """
    active: dict[str, JobRecord] = {}
    failed: dict[str, JobRecord] = {}
    names = {task.name for task in tasks}
    for other in list_sweeps():
        if other.kind != kind or not names & set(other.jobs):
            continue
        refresh(other)
        for name, job in other.jobs.items():
            if name in names and job.active:
                active[name] = job
            elif other.sweep == sweep and name in names and job.failed:
                failed[name] = job
    submit = [t for t in tasks if t.name not in active and (retry_failed or t.name not in failed)]
    return Selection(submit=submit, active=active,
                     failed={} if retry_failed else {n: j for n, j in failed.items() if n not in active})


def _executor(record: SweepRecord, options: ExecutorOptions) -> Any:
    """A submitit AutoExecutor for the sweep's log folder and ``options``."""
    try:
        import submitit
    except ImportError:
        raise UsageError("--executor local/slurm submits jobs through submitit, which is not installed: "
                         "pip install 'realnet-plugins[cluster]' (or pip install submitit)") from None
    if options.executor == "slurm":
        missing = [tool for tool in ("sbatch", "srun") if shutil.which(tool) is None]
        if missing:
            raise UsageError(f"--executor slurm needs SLURM's {' and '.join(missing)} on PATH, which this machine "
                             "lacks; run the command on the cluster's login node, or use --executor local here")
    executor = submitit.AutoExecutor(folder=str(record.log_dir), cluster=options.executor)
    params: dict[str, Any] = {"name": f"realnet-{record.sweep}"}
    if options.executor == "local":
        import torch

        gpus = options.gpus_per_node if options.gpus_per_node is not None else torch.cuda.device_count()
        params.update(timeout_min=options.time_min or LOCAL_DEFAULT_TIME_MIN, gpus_per_node=gpus)
        if options.setup:
            params["local_setup"] = list(options.setup)
    else:
        params.update(timeout_min=options.time_min, gpus_per_node=1 if options.gpus_per_node is None
                      else options.gpus_per_node, slurm_array_parallelism=options.parallelism)
        optional = {"cpus_per_task": options.cpus_per_task, "mem_gb": options.mem_gb,
                    "slurm_partition": options.partition, "slurm_account": options.account,
                    "slurm_qos": options.qos, "slurm_setup": list(options.setup) or None}
        params.update({k: v for k, v in optional.items() if v is not None})
    executor.update_parameters(**params)
    return executor


def _sbatch_error(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) < 400 else text[:400] + " ..."


def _record_job(record: SweepRecord, task: JobTask, job: Any, array_index: int | None) -> JobRecord:
    earlier = record.jobs.get(task.name)
    previous = [] if earlier is None else [*earlier.previous, {"job_id": earlier.job_id, "state": earlier.state,
                                                               "error": earlier.error}]
    entry = JobRecord(task=task.name, job_id=str(job.job_id), array_index=array_index,
                      attempt=1 + len(previous), stdout=str(job.paths.stdout), stderr=str(job.paths.stderr),
                      submitted_utc=_now(), previous=previous)
    record.jobs.pop(task.name, None)
    record.jobs[task.name] = entry
    return entry


def submit_jobs(tasks: Sequence[JobTask], options: ExecutorOptions, *, sweep: str, kind: str, command: str = "",
                progress: bool | None = None, poll_s: float = 0.5,
                on_end: Callable[[JobRecord], None] | None = None) -> SweepRecord:
    """Submit ``tasks`` as jobs of ``sweep`` and record them in ``$REALNET_HOME/jobs/<sweep>/jobs.json``.

    On SLURM the tasks go out as one job array (``--array-parallelism`` at once) and this returns
    at once. Locally, at most ``options.parallelism`` jobs run at a time on this machine and this
    waits for all of them (with a progress bar over jobs); Ctrl-C cancels the running ones (a
    training run saves its resume state first when it can).

    Args:
        tasks: the tasks (dataclasses such as :class:`TrainTask`; their ``outcome_dir`` is set to the
            sweep's ``outcomes`` folder here); a task already in the record is recorded as its next attempt.
        options: where and how (checked here).
        sweep: the sweep id (:func:`sweep_id`).
        kind: ``"train"`` or ``"score"``.
        command: the command line, kept in the record.
        progress: progress bar over local jobs (None: only on a terminal).
        poll_s: seconds between looks at running local jobs.
        on_end: called with each local job's record when it ends.

    Returns:
        The sweep's record (local: every job ended).

    Raises:
        UsageError: bad options, submitit or SLURM missing, or ``sbatch`` refused the array.
    """
    options.check()
    record = load_sweep(sweep) or SweepRecord(sweep=sweep, kind=kind, executor=options.executor, command=command,
                                              created_utc=_now())
    if record.kind != kind:
        raise UsageError(f"sweep {sweep} holds {record.kind} jobs, not {kind} jobs")
    record.executor, record.command = options.executor, command or record.command
    if not tasks:
        return record
    tasks = [dataclasses.replace(task, outcome_dir=str(record.outcome_dir)) for task in tasks]
    executor = _executor(record, options)
    record.outcome_dir.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        (record.outcome_dir / f"{task.name}.json").unlink(missing_ok=True)
    if options.executor == "slurm":
        import submitit

        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                jobs = executor.submit_array(list(tasks))
        except (submitit.core.utils.FailedJobError, submitit.core.utils.FailedSubmissionError, OSError) as error:
            raise UsageError(f"sbatch refused the job array: {_sbatch_error(error)}") from None
        for index, (task, job) in enumerate(zip(tasks, jobs)):
            _record_job(record, task, job, index if len(tasks) > 1 else None)
        record.save()
        return record
    _run_locally(record, executor, list(tasks), options.parallelism, progress, poll_s, on_end)
    return record


def _run_locally(record: SweepRecord, executor: Any, queue: list[JobTask], parallelism: int,
                 progress: bool | None, poll_s: float, on_end: Callable[[JobRecord], None] | None) -> None:
    """Start local jobs, at most ``parallelism`` at once, until every one ended."""
    from tqdm.auto import tqdm

    running: dict[str, Any] = {}
    disable = None if progress is None else not progress
    try:
        with tqdm(total=len(queue), desc=f"{len(queue)} local jobs", unit="job", disable=disable) as bar:
            while queue or running:
                while queue and len(running) < parallelism:
                    task = queue.pop(0)
                    running[task.name] = executor.submit(task)
                    _record_job(record, task, running[task.name], None)
                    record.save()
                time.sleep(poll_s)
                ended = [name for name, job in running.items() if job.done()]
                if ended:
                    refresh(record, running)
                for name in ended:
                    del running[name]
                    bar.update(1)
                    if on_end is not None:
                        on_end(record.jobs[name])
    except BaseException:
        for job in running.values():
            job.cancel(check=False)
        refresh(record, {})
        raise
