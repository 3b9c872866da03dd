"""Ctrl-C and SIGTERM as a user sends them: a prompt stop, one line saying where, no worker left
behind, nothing half-written that a rerun trusts, and a rerun that ends as if nothing happened."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fixtures import textured, write

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads child processes from /proc")

PROGRAMS = {"blurgen": "from blurgen.cli import main", "train": "from train.cli import main",
            "deblur": "from train.cli import deblur_main as main"}


def start(program: str, *args: str, group: bool = False) -> subprocess.Popen:
    """The command as a terminal starts it: Ctrl-C is a KeyboardInterrupt even when this test runs
    in a background job (which starts its children with SIGINT ignored). ``group``: in a process
    group of its own, as ``timeout`` and Slurm start a job, so a signal can reach all of it."""
    code = (f"import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); sys.argv[0] = {program!r}; "
            f"{PROGRAMS[program]}; main()")
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=group)


def descendants(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found |= {child} | descendants(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def stop(process: subprocess.Popen, signum: int) -> tuple[float, str]:
    """Send ``signum``; return how long the process took to exit and its stderr."""
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    return time.monotonic() - sent, stderr


def digest(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "stats" not in p.name}


def test_ctrl_c_stops_dataset_workers_promptly_and_a_rerun_completes_to_the_same_bytes(tmp_path):
    args = ["dataset", "--limit", "40", "--shard-size", "2", "--crop", "96", "--kernel-size", "21"]
    process = start("blurgen", *args, "--workers", "2", "--out", str(tmp_path / "stopped"))
    wait_for(lambda: any((tmp_path / "stopped" / "train").glob("shard-*/stats.json")))
    workers = descendants(process.pid)
    assert workers  # the pool is running
    seconds, stderr = stop(process, signal.SIGINT)
    assert process.returncode == 130 and seconds < 3, (seconds, stderr)
    assert "interrupted:" in stderr and "run the same command again" in stderr and "Traceback" not in stderr
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=5)
    done = len(list((tmp_path / "stopped" / "train").glob("shard-*/stats.json")))
    assert 0 < done < 20
    rerun = subprocess.run([sys.executable, "-m", "blurgen", *args, "--workers", "2", "--out", str(tmp_path / "stopped")], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    reference = subprocess.run([sys.executable, "-m", "blurgen", *args, "--workers", "1", "--out", str(tmp_path / "whole")], capture_output=True, text=True)
    assert reference.returncode == 0, reference.stderr
    assert digest(tmp_path / "stopped") == digest(tmp_path / "whole")
    assert not list((tmp_path / "stopped" / "train").glob(".*partial"))


def test_sigterm_stops_training_at_a_step_with_a_checkpoint_and_resume_logs_each_step_once(tmp_path):
    args = ["--mix", "synth", "--steps", "400", "--batch-size", "2", "--crop", "32", "--ngf", "8", "--blocks", "1", "--ndf", "8",
            "--log-every", "1", "--checkpoint-every", "1000", "--workers", "0", "--device", "cpu", "--out", str(tmp_path)]
    process = start("train", *args)
    metrics = tmp_path / "metrics.jsonl"
    wait_for(lambda: metrics.exists() and metrics.read_text().count("\n") >= 3)
    seconds, stderr = stop(process, signal.SIGTERM)
    assert process.returncode == 143 and seconds < 3, (seconds, stderr)
    line = next(line for line in stderr.splitlines() if line.startswith("interrupted:"))
    assert "with a checkpoint" in line and "--resume" in line
    stopped_at = int(line.split("stopped at step ")[1].split()[0])
    resumed = subprocess.run([sys.executable, "-c", "import sys; sys.argv[0] = 'train'; from train.cli import main; main()", *args,
                              "--resume", "--stop-at", str(stopped_at + 3)], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed {tmp_path / 'checkpoint.pt'} at step {stopped_at} of 400" in resumed.stderr
    steps = [json.loads(row)["step"] for row in metrics.read_text().splitlines()]
    assert steps == list(range(1, stopped_at + 4))


def test_sigterm_to_the_process_group_stops_training_with_data_workers_at_a_step_with_a_checkpoint(tmp_path):
    """``timeout -s TERM``, Slurm and Kubernetes signal every process of the job, the data workers too."""
    args = ["--mix", "synth", "--steps", "4000", "--batch-size", "2", "--crop", "32", "--ngf", "8", "--blocks", "1", "--ndf", "8",
            "--log-every", "1", "--checkpoint-every", "10000", "--workers", "2", "--threads", "1", "--device", "cpu",
            "--out", str(tmp_path)]
    process = start("train", *args, group=True)
    metrics = tmp_path / "metrics.jsonl"
    wait_for(lambda: metrics.exists() and metrics.read_text().count("\n") >= 3)
    workers = descendants(process.pid)
    assert len(workers) >= 2
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 143 and time.monotonic() - sent < 5, stderr
    assert "Traceback" not in stderr and "killed by signal" not in stderr, stderr
    line = next(line for line in stderr.splitlines() if line.startswith("interrupted:"))
    assert "(SIGTERM) with a checkpoint" in line and "--resume" in line
    assert (tmp_path / "checkpoint.pt").exists()
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=5)


@pytest.mark.parametrize("command, written", [
    (["kernels", "--n", "200000", "--kernel-size", "21"], "kernels.npz"),
    (["evalset", "--max-side", "0", "--per-image", "8"], "evalset.json"),
])
def test_ctrl_c_stops_a_command_that_writes_its_output_whole_without_writing_it(tmp_path, command, written):
    process = start("blurgen", *command, "--out", str(tmp_path / "out"))
    time.sleep(3)
    seconds, stderr = stop(process, signal.SIGINT)
    assert process.returncode == 130 and seconds < 3, (seconds, stderr)
    assert "interrupted: nothing written" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out" / written).exists()


def test_a_resume_after_a_kill_drops_the_steps_logged_after_the_last_checkpoint(tmp_path):
    args = ["--mix", "synth", "--steps", "400", "--batch-size", "2", "--crop", "32", "--ngf", "8", "--blocks", "1", "--ndf", "8",
            "--log-every", "1", "--checkpoint-every", "4", "--workers", "0", "--device", "cpu", "--out", str(tmp_path)]
    process = start("train", *args)
    metrics = tmp_path / "metrics.jsonl"
    wait_for(lambda: metrics.exists() and metrics.read_text().count("\n") >= 6 and metrics.read_text().count("\n") % 4)
    process.kill()  # no chance to clean up: rows after the checkpoint stay in metrics.jsonl
    process.communicate()
    resumed = subprocess.run([sys.executable, "-c", "import sys; sys.argv[0] = 'train'; from train.cli import main; main()", *args,
                              "--resume", "--stop-at", "12"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    steps = [json.loads(row)["step"] for row in metrics.read_text().splitlines()]
    assert steps == list(range(1, 13))


def test_ctrl_c_stops_deblur_with_every_written_image_whole(tmp_path):
    rng = np.random.default_rng(0)
    names = [f"{i}.png" for i in range(3)]
    for name in names:
        write(tmp_path / name, textured(rng, 2000, 3000))  # several windows each: seconds per image
    process = start("deblur", "builtin", *[str(tmp_path / name) for name in names], "--out", str(tmp_path / "r"))
    wait_for(lambda: (tmp_path / "r").exists())
    time.sleep(2)
    seconds, stderr = stop(process, signal.SIGINT)
    assert process.returncode == 130 and seconds < 3, (seconds, stderr)
    line = next(line for line in stderr.splitlines() if line.startswith("interrupted:"))
    restored = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert f"restored {len(restored)} of 3 image(s)" in line and len(restored) < 3
    assert all(not name.startswith(".") for name in restored)  # no partial file left behind


@pytest.mark.parametrize("program, args, busy", [
    ("blurgen", ["dataset", "--limit", "40", "--shard-size", "2", "--crop", "96", "--kernel-size", "21", "--workers", "2"],
     lambda out: any((out / "train").glob("shard-*/stats.json"))),
    ("train", ["--mix", "synth", "--steps", "400", "--batch-size", "2", "--crop", "32", "--ngf", "8", "--blocks", "1", "--ndf", "8",
               "--log-every", "1", "--workers", "1", "--threads", "1", "--device", "cpu"],
     lambda out: (out / "metrics.jsonl").exists() and (out / "metrics.jsonl").read_text().count("\n") >= 2),
], ids=["dataset", "train"])
def test_workers_end_soon_after_their_parent_is_killed_with_sigkill(tmp_path, program, args, busy):
    process = start(program, *args, "--out", str(tmp_path / "out"))
    wait_for(lambda: busy(tmp_path / "out"))
    workers = descendants(process.pid)
    assert workers  # worker processes (and multiprocessing's helpers) are running
    process.kill()  # as the OOM killer or a scheduler's hard limit: no chance to clean up
    process.wait()  # not communicate(): workers left alive would hold its output pipes open
    try:
        # Within 2 s: PyTorch's own data-worker watchdog takes up to 5 s; ours checks twice a second.
        wait_for(lambda: not any(alive(pid) for pid in workers), timeout=2)
    finally:
        for pid in workers:  # whatever the outcome, leave nothing running
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        process.stdout.close()
        process.stderr.close()


def test_sigterm_to_the_process_group_stops_a_sequences_run_and_a_rerun_completes_to_the_same_bytes(tmp_path):
    """``timeout`` and Slurm signal every process of the job: the sequence workers too."""
    args = ["sequences", "--limit", "12", "--frames", "12", "--crop", "96", "--shard-size", "1", "--layout", "gopro"]
    process = start("blurgen", *args, "--workers", "2", "--out", str(tmp_path / "stopped"), group=True)
    wait_for(lambda: any((tmp_path / "stopped" / "train").glob("shard-*/stats.json")))
    workers = descendants(process.pid)
    assert workers
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 143 and time.monotonic() - sent < 5, stderr
    assert "interrupted:" in stderr and "run the same command again" in stderr and "Traceback" not in stderr
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=5)
    assert 0 < len(list((tmp_path / "stopped" / "train").glob("shard-*/stats.json"))) < 12
    assert not (tmp_path / "stopped" / "train" / "gopro").exists()
    rerun = subprocess.run([sys.executable, "-m", "blurgen", *args, "--workers", "2", "--out", str(tmp_path / "stopped")],
                           capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    whole = subprocess.run([sys.executable, "-m", "blurgen", *args, "--workers", "1", "--out", str(tmp_path / "whole")],
                           capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    assert digest(tmp_path / "stopped") == digest(tmp_path / "whole")
    assert not list((tmp_path / "stopped" / "train").glob(".*partial"))
