"""Sweeps and scorings as submitit jobs (``--executor local|slurm``), their record and ``realnet jobs``.

Local jobs are real submitit LocalExecutor jobs (subprocesses of the installed package). SLURM cannot
run here: its path runs real submitit against stand-in ``sbatch``/``srun``/``sacct`` scripts on
PATH, which record the sbatch file submitit wrote and answer as SLURM does.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pytest
import torch

from realnet_plugins.checkpoints import load_checkpoint, weights_digest
from realnet_plugins.cli import main
from realnet_plugins.executors import (
    ExecutorOptions,
    TrainTask,
    load_sweep,
    parse_mem_gb,
    parse_time_minutes,
    submit_jobs,
    sweep_id,
    train_task,
)
from realnet_plugins.fixtures.weights import write_fixture_checkpoint
from realnet_plugins.training import TrainConfig
from realnet_plugins.training.loop import build_initial_model

from installed import site_plugin_dir
from training_setup import tiny_release

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: 16 pairs in batches of 5: three steps per epoch, six in all.
TINY = ["--backbone", "resnet18", "--image-size", "32", "--epochs", "2", "--batch-size", "5", "--lr", "1e-3",
        "--log-every", "2", "--no-progress"]
#: Two local jobs at once, one torch thread each (as this process: CPU results are then bit-identical).
LOCAL = ["--executor", "local", "--array-parallelism", "2", "--cpus-per-task", "1"]
#: The sweep's runs → checkpoint under $REALNET_HOME: tiny runs are off the paper's recipe, so every one is
#: saved under its run name in checkpoints/custom/ (never as a paper identifier).
RUNS = {f"resnet18_{variant}_beta100_s0{s}_seed2023": f"checkpoints/custom/resnet18_{variant}_beta100_s0{s}_seed2023.pt"
        for variant in ("realnet", "no_mse") for s in (1, 2)}
S01, S02, S05 = (f"resnet18_realnet_beta100_s0{s}_seed2023" for s in (1, 2, 5))


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return str(tiny_release(tmp_path_factory.mktemp("release")))


@pytest.fixture(scope="module")
def reference(release, tmp_path_factory):
    """$REALNET_HOME of the in-process sweep (one torch thread) over 2 subjects × 2 variants."""
    home = tmp_path_factory.mktemp("reference_home")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REALNET_HOME", str(home))
        torch.set_num_threads(1)
        try:
            assert main(["sweep", "--release", release, "--subjects", "1-2", "--variants", "realnet,no_mse",
                         *TINY]) == 0
        finally:
            torch.set_num_threads(threads)
    return home


def assert_same_checkpoint(a: Path, b: Path) -> None:
    """Same tensors (bit for bit), same digest, same record apart from the creation time and place."""
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    wa, wb = ca.model.state_dict(), cb.model.state_dict()
    assert wa.keys() == wb.keys()
    for name in wa:
        assert torch.equal(wa[name], wb[name]), name
    assert weights_digest(wa) == weights_digest(wb)
    ma, mb = dataclasses.asdict(ca.meta), dataclasses.asdict(cb.meta)
    for meta in (ma, mb):
        meta.pop("created_utc")
    assert ma == mb


def events(home: Path, run: str) -> list[str]:
    return [json.loads(line)["event"] for line in (home / "runs" / run / "log.jsonl").read_text().splitlines()]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


# ------------------------------------------------------------------------------------ local sweep
def test_local_jobs_train_bit_identical_checkpoints_to_the_in_process_sweep(release, reference, realnet_home,
                                                                            capsys):
    command = ["sweep", "--release", release, "--subjects", "1-2", "--variants", "realnet,no_mse", *TINY, *LOCAL]
    assert main(command) == 0
    out = capsys.readouterr().out
    for checkpoint in RUNS.values():
        assert f"trained: {realnet_home / checkpoint}" in out
        assert_same_checkpoint(reference / checkpoint, realnet_home / checkpoint)
    trained = load_checkpoint(realnet_home / RUNS[S01])
    initial = build_initial_model(TrainConfig(release=release, subject=1, backbone="resnet18", image_size=32,
                                              batch_size=5).resolved())[0].state_dict()
    weights = trained.model.state_dict()
    assert max((weights[k] - initial[k]).abs().max().item() for k in weights if weights[k].is_floating_point()) > 1e-4

    record = load_sweep(sweep_id("train", RUNS))
    assert record.executor == "local" and set(record.jobs) == set(RUNS)
    assert {job.state for job in record.jobs.values()} == {"COMPLETED"}
    assert all(Path(job.stdout).is_file() and Path(job.stderr).is_file() for job in record.jobs.values())

    assert main(["jobs", "--sweep", record.sweep[:12]]) == 0
    listing = capsys.readouterr().out
    assert "4 jobs: 4 COMPLETED" in listing
    rows = {line.split()[0]: line.split() for line in listing.splitlines()[2:]}
    for job in record.jobs.values():
        assert rows[job.task][1:5] == [job.job_id, "1", "COMPLETED", job.stdout[:-4] + ".{out,err}"]
    assert main(["jobs", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["sweep"] == record.sweep and {j["state"] for j in listed["jobs"]} == {"COMPLETED"}

    assert main(command) == 0  # everything finished: nothing is submitted again
    assert capsys.readouterr().out.count("skip (finished)") == 4
    assert load_sweep(record.sweep).jobs == record.jobs


@dataclasses.dataclass(frozen=True)
class Signalled(TrainTask):
    """A training task that sends itself a signal after some steps: step → signal number."""

    signals: tuple[tuple[int, int], ...] = ()

    def train(self, on_step=None):
        def signal_after(info):
            number = dict(self.signals).get(info.global_step)
            if number is not None:
                os.kill(os.getpid(), number)

        return super().train(on_step=signal_after)


def test_a_preempted_job_is_requeued_and_failed_or_killed_ones_are_resubmitted_with_retry_failed(
        release, reference, realnet_home, capsys, request):
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # jobs cannot import this test module
    request.addfinalizer(lambda: cloudpickle.unregister_pickle_by_value(sys.modules[__name__]))
    config = TrainConfig(release=release, subject=1, backbone="resnet18", image_size=32, epochs=2, batch_size=5,
                         lr=1e-3, log_every=2, checkpoint_every_steps=1)
    plain = train_task(config, threads=1)
    # Step 2: submitit's pre-emption signal (the run saves and the job is requeued); step 4: killed outright.
    task = Signalled(**{f.name: getattr(plain, f.name) for f in dataclasses.fields(TrainTask)},
                     signals=((2, int(signal.SIGUSR2)), (4, int(signal.SIGKILL))))
    absent = train_task(dataclasses.replace(config, subject=5), threads=1)  # fails: not in the release
    sweep = sweep_id("train", [plain.name, absent.name])
    record = submit_jobs([task, absent], ExecutorOptions("local", array_parallelism=2, cpus_per_task=1), sweep=sweep,
                         kind="train", progress=False)
    failed = record.jobs[S05]
    assert failed.state == "FAILED" and "subject 5 is not in the release" in failed.error
    job = record.jobs[S01]
    assert (job.state, job.attempt) == ("INTERRUPTED", 1) and "ended without a result" in job.error
    assert "Requeued job" in Path(job.stdout).read_text()  # submitit's own log line
    logged = events(realnet_home, S01)
    assert logged[0] == "start" and logged.count("resume") == 1 and "end" not in logged, logged
    assert (realnet_home / "runs" / S01 / "resume.pt").is_file()
    checkpoint = realnet_home / RUNS[S01]
    assert not checkpoint.exists()

    command = ["sweep", "--release", release, "--subjects", "1,5", *TINY, *LOCAL, "--checkpoint-every-steps", "1"]
    assert main(command) == 1  # failed and killed runs are not resubmitted without --retry-failed
    err = capsys.readouterr().err
    assert f"{S01} failed before (job" in err and f"{S05} failed before (job" in err
    assert "2 job(s) failed" in err and "--retry-failed" in err and not checkpoint.exists()

    assert main([*command, "--retry-failed"]) == 1  # subject 5 fails again; subject 1 continues and ends
    captured = capsys.readouterr()
    assert f"trained: {checkpoint}" in captured.out
    assert f"{S05} FAILED: ValueError" in captured.err and "1 job(s) failed" in captured.err
    assert events(realnet_home, S01).count("resume") == 2
    assert_same_checkpoint(reference / RUNS[S01], checkpoint)
    again = load_sweep(sweep).jobs[S01]
    assert (again.state, again.attempt, again.previous[0]["state"]) == ("COMPLETED", 2, "INTERRUPTED")


# ------------------------------------------------------------------------------------------ score
def test_local_score_jobs_fill_the_same_store_as_the_in_process_scorer(tmp_path, realnet_home, monkeypatch, capsys):
    site_plugin_dir("benchmarks", "realnet_testbench")
    for name, value in (("RESULTCACHING_DISABLE", "1"), ("RESULTCACHING_HOME", str(tmp_path / "rc")),
                        ("BRAINIO_HOME", str(tmp_path / "brainio")), ("BS_INSTALL_DEPENDENCIES", "no")):
        monkeypatch.setenv(name, value)
    homes = {"in_process": tmp_path / "in_process", "jobs": tmp_path / "jobs"}
    for seed, identifier in enumerate(("realnet_r_s01", "realnet_r_s02")):
        written = write_fixture_checkpoint(identifier, image_size=32, seed=seed, path=tmp_path / f"{identifier}.pt")
        for home in homes.values():
            (home / "checkpoints").mkdir(parents=True, exist_ok=True)
            for file in (written, written.with_name(written.name + ".sha256")):
                shutil.copy2(file, home / "checkpoints" / file.name)
    command = ["score", "--models", "realnet_r_s*", "--benchmarks", "RealnetTest.tiny-rsa", "--quiet"]
    monkeypatch.setenv("REALNET_HOME", str(homes["in_process"]))
    assert main(command) == 0
    monkeypatch.setenv("REALNET_HOME", str(homes["jobs"]))
    assert main([*command, *LOCAL]) == 0
    printed = capsys.readouterr().out
    assert "2 computed by jobs, 0 from the store, 0 failed" in printed

    def store(home):
        return {p.relative_to(home): json.loads(p.read_text()) for p in (home / "scores").rglob("*.json")}

    expected, got = store(homes["in_process"]), store(homes["jobs"])
    assert len(expected) == 2 and expected.keys() == got.keys()
    for path, record in expected.items():
        assert {k: v for k, v in got[path].items() if k != "value"} == {k: v for k, v in record.items() if k != "value"}
        assert got[path]["value"] == pytest.approx(record["value"], rel=1e-9, abs=1e-12)

    assert main([*command, *LOCAL]) == 0  # all stored: no job
    assert "0 computed by jobs, 2 from the store, 0 failed" in capsys.readouterr().out
    record = load_sweep(sweep_id("score", [f"realnet_r_s0{s}--RealnetTest.tiny-rsa" for s in (1, 2)]))
    assert [job.attempt for job in record.jobs.values()] == [1, 1]


# ------------------------------------------------------------------------------------------ SLURM
def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def stand_in_slurm(tmp_path, monkeypatch):
    """sbatch (keeps each script, answers job 4242, 4243, ...), srun, and sacct (answers from sacct.txt)."""
    folder = tmp_path / "slurm"
    folder.mkdir()
    _tool(folder, "sbatch", f"""n=$(( $(cat {folder}/count 2>/dev/null || echo 0) + 1 )); echo $n > {folder}/count
cp "$1" {folder}/sbatch-$n.sh
echo "Submitted batch job $(( 4241 + n ))"
""")
    _tool(folder, "srun", "exit 0\n")
    _tool(folder, "sacct", f'echo "JobID|State|NodeList"; cat {folder}/sacct.txt\n')
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_slurm_sweep_submits_one_array_with_the_asked_resources_and_resubmits_failed_jobs(
        release, stand_in_slurm, realnet_home, capsys):
    command = ["sweep", "--release", release, "--subjects", "1-2", "--variants", "realnet,no_mse", *TINY,
               "--executor", "slurm", "--partition", "gpu", "--gpus-per-node", "1", "--time", "1:30:00",
               "--cpus-per-task", "8", "--mem", "32G", "--array-parallelism", "2", "--account", "lab", "--qos", "high",
               "--setup", "module load cuda"]
    assert main(command) == 0
    sweep = sweep_id("train", RUNS)
    assert f"submitted 4 job(s) to SLURM (job 4242); follow them with `realnet jobs --sweep {sweep}`" in \
        capsys.readouterr().out
    script = (stand_in_slurm / "sbatch-1.sh").read_text()
    lines = set(script.splitlines())
    logs = realnet_home / "jobs" / sweep / "logs"
    assert {"#SBATCH --partition=gpu", "#SBATCH --gpus-per-node=1", "#SBATCH --time=90", "#SBATCH --cpus-per-task=8",
            "#SBATCH --mem=32GB", "#SBATCH --array=0-3%2", "#SBATCH --account=lab", "#SBATCH --qos=high",
            f"#SBATCH --job-name=realnet-{sweep}", "#SBATCH --signal=USR2@90", "module load cuda",
            f"#SBATCH --output={logs}/%A_%a/%A_%a_0_log.out"} <= lines, script
    record = load_sweep(sweep)
    assert [(j.task, j.job_id, j.array_index, j.state) for j in record.jobs.values()] == [
        (run, f"4242_{i}", i, "SUBMITTED") for i, run in enumerate(RUNS)]
    assert record.jobs[S01].stderr == str(logs / "4242_0" / "4242_0_0_log.err")
    task = load_submitted_task(logs / "4242_1" / "4242_1_submitted.pkl")
    assert (task.name, task.config.device, task.config.subject, task.threads) == (S02, None, 2, 8)

    (stand_in_slurm / "sacct.txt").write_text("4242_0|RUNNING|n1\n4242_1|PENDING|None\n4242_2|OUT_OF_MEMORY|n2\n"
                                              "4242_3|CANCELLED by 1000|n3\n")
    assert main(["jobs", "--sweep", sweep]) == 0
    listing = capsys.readouterr().out
    assert "4 jobs: 1 CANCELLED, 1 OUT_OF_MEMORY, 1 PENDING, 1 RUNNING" in listing
    assert "SLURM ended the job: OUT_OF_MEMORY" in listing

    assert main(command) == 1  # two jobs still run, two failed: nothing submitted
    captured = capsys.readouterr()
    assert f"running: {S01} (job 4242_0, RUNNING); not submitted again" in captured.out
    assert "resnet18_no_mse_beta100_s01_seed2023 failed before (job 4242_2, OUT_OF_MEMORY" in captured.err
    assert not (stand_in_slurm / "sbatch-2.sh").exists()

    assert main([*command, "--retry-failed"]) == 0
    assert "#SBATCH --array=0-1%2" in (stand_in_slurm / "sbatch-2.sh").read_text()
    jobs = load_sweep(sweep).jobs
    assert [(jobs[r].job_id, jobs[r].attempt, jobs[r].previous[-1]["state"]) for r in list(RUNS)[2:]] == [
        ("4243_0", 2, "OUT_OF_MEMORY"), ("4243_1", 2, "CANCELLED")]
    assert (jobs[S01].job_id, jobs[S01].attempt) == ("4242_0", 1)


def load_submitted_task(path: Path):
    from submitit.core.utils import DelayedSubmission

    return DelayedSubmission.load(path).function


def test_slurm_without_sbatch_and_job_options_without_an_executor_are_one_line_errors(release, tmp_path, capsys,
                                                                                     monkeypatch):
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # python, but no SLURM
    base = ["sweep", "--release", release, "--subjects", "1", *TINY]
    cases = [
        (["--executor", "slurm", "--time", "30"], "needs SLURM's sbatch and srun on PATH"),
        (["--executor", "slurm"], "needs --time"),
        (["--partition", "gpu"], "--partition only apply to jobs: add --executor slurm"),
        (["--executor", "local", "--partition", "gpu", "--mem", "8G"], "--partition, --mem only apply to SLURM"),
        (["--executor", "slurm", "--time", "1:99:00"], "cannot read the time limit '1:99:00'"),
        (["--executor", "slurm", "--time", "30", "--mem", "lots"], "cannot read the memory size 'lots'"),
        (["--executor", "local", "--overwrite"], "--overwrite does not combine with --executor"),
        (["--executor", "local", "--processes", "2"], "--array-parallelism sets how many run at once"),
        (["--retry-failed"], "--retry-failed resubmits failed jobs: it needs --executor"),
    ]
    for extra, message in cases:
        assert main([*base, *extra]) != 0
        assert message in one_line_error(capsys), extra
    assert main(["jobs", "--sweep", "train-nope"]) != 0
    assert "'train-nope' is not a sweep" in one_line_error(capsys)
    assert main(["jobs"]) == 0 and "no jobs under" in capsys.readouterr().out
    assert not (Path(os.environ["REALNET_HOME"]) / "checkpoints").exists()


def test_time_limits_and_memory_sizes_read_as_slurm_writes_them():
    assert [parse_time_minutes(t) for t in ("90", "1:30:00", "0:00:30", "2-00:00:00", "1:00:01")] == [
        90, 90, 1, 2880, 61]
    assert [parse_mem_gb(m) for m in ("32", "32G", "32gb", "512M", "1T", "1.5G")] == [32, 32, 32, 0.5, 1024, 1.5]
    for bad in ("", "1:30", "0", "1h"):
        with pytest.raises(ValueError, match="time limit"):
            parse_time_minutes(bad)


def test_without_submitit_the_modules_import_light_and_jobs_are_refused_in_one_line(release, capsys, monkeypatch):
    code = ("import sys; sys.modules['submitit'] = None\n"
            "import realnet_plugins.executors, realnet_plugins.commands.jobs\n"
            "print(sorted(m for m in ('torch', 'numpy', 'submitit', 'brainscore_vision') if sys.modules.get(m)))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split("\n")[-2] == "[]"
    monkeypatch.setitem(sys.modules, "submitit", None)  # as on the bare GPU machine
    assert main(["sweep", "--release", release, "--subjects", "1", *TINY, "--executor", "local"]) != 0
    assert "submits jobs through submitit, which is not installed" in one_line_error(capsys)
    assert main(["jobs"]) == 0 and "no jobs under" in capsys.readouterr().out
    assert not (Path(os.environ["REALNET_HOME"]) / "checkpoints").exists()
