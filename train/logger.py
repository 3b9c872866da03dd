"""What a run tells: a console line per logging window (losses, images/s, data wait),
``metrics.jsonl`` (one line per step, and one per validation), TensorBoard scalars and image grids.

The losses stay on the device until a logging window ends, then come to the host in one transfer:
a host synchronisation per step would stall a GPU.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import torch

from train.losses.gan import LABELS

CONTENT_TERMS = ("perceptual", "l1", "mse", "charbonnier", "fft")
FORMATS = {"wasserstein": "+.3e", "gp": ".3e", "grad_norm": ".4g"}  # the rest: +.4g
ESTIMATE_AFTER = 2  # steps after the first (which warms up) timed before the estimate of the run's length


def duration(seconds: float) -> str:
    """``4321`` → ``1 h 12 min``; under a minute in seconds."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


class MetricLogger:
    """Collects each step's losses and timing; rank 0 (``writer`` given) writes them out."""

    def __init__(self, *, out: Path, gan: str, steps: int, log_every: int, global_batch: int,
                 log: Callable[[str], None], writer: object | None = None) -> None:
        self.out, self.labels, self.steps, self.log_every, self.global_batch = out, LABELS[gan], steps, log_every, global_batch
        self.log, self.writer = log, writer
        self.history: list[dict] = []
        self.pending: list[tuple[int, float, dict]] = []  # steps whose losses are still on the device
        self.window = {"waited": 0.0, "computed": 0.0, "images": 0}
        self.totals = {"waited": 0.0, "computed": 0.0, "images": 0}  # over the steps after the first (warm-up)
        self.tick = time.perf_counter()
        self.estimated = False  # the one early line saying how long a step takes, before the first logging window

    def step(self, step: int, first_step: bool, fetched: float, lr: float, terms: dict) -> None:
        """Record a step: ``fetched`` is when its batch arrived (``time.perf_counter``), ``terms``
        its losses (tensors on the device); the console line is written at each logging window."""
        self.pending.append((step, lr, terms))
        logging_now = step % self.log_every == 0 or step == self.steps
        if logging_now:
            self.flush()
        done = time.perf_counter()
        timings = {"waited": fetched - self.tick, "computed": done - fetched, "images": self.global_batch}
        for key, value in timings.items():
            self.window[key] += value
            if not first_step:
                self.totals[key] += value
        self.tick = done
        if logging_now and self.writer is not None:
            self.console(step)
        elif not self.estimated and self.writer is not None and self.totals["images"] >= ESTIMATE_AFTER * self.global_batch:
            self.estimate(step)

    def estimate(self, step: int) -> None:
        """Say, after the first few steps, how long a step takes and the run will take at this speed:
        on a CPU the first logging window may be many minutes away."""
        self.estimated = True
        counted = self.totals["images"] / self.global_batch
        per_step = (self.totals["waited"] + self.totals["computed"]) / counted
        left = (self.steps - step) * per_step
        self.log(f"steps take {per_step:.2f} s ({self.global_batch / per_step:.1f} img/s): the {self.steps - step:,} step{'s' if self.steps - step != 1 else ''} left "
                 f"need about {duration(left)} at this speed; the next line at step "
                 f"{min(self.steps, (step // self.log_every + 1) * self.log_every)}")

    def flush(self) -> None:
        """Bring the pending steps' losses to the host in one transfer; log them to disk and TensorBoard."""
        if not self.pending:
            return
        names = list(self.pending[0][2])
        values = torch.stack([torch.stack([terms[name].float() for name in names]) for _, _, terms in self.pending]).tolist()
        records = [{"step": step, **dict(zip(names, row)), "lr": lr} for (step, lr, _), row in zip(self.pending, values)]
        self.history += records
        self.pending.clear()
        if self.writer is None:
            return
        for record in records:
            for key, value in record.items():
                if key != "step":
                    self.writer.add_scalar(f"train/{key}", value, record["step"])
        with (self.out / "metrics.jsonl").open("a") as handle:
            handle.writelines(json.dumps(record) + "\n" for record in records)

    def console(self, step: int) -> None:
        record, window = self.history[-1], self.window
        elapsed = window["waited"] + window["computed"]
        images_per_s = window["images"] / elapsed if elapsed else 0.0
        data_share = window["waited"] / elapsed if elapsed else 0.0
        self.writer.add_scalar("speed/images_per_s", images_per_s, step)
        self.writer.add_scalar("speed/data_wait_fraction", data_share, step)
        adversarial = [f"{label} {record[key]:{FORMATS.get(key, '+.4g')}}" for key, label in self.labels.items() if key in record]
        if "adversarial" in record:
            adversarial.append(f"G_adv {record['adversarial']:+.4g}")
        content = "  ".join(f"{key} {record[key]:.4g}" for key in CONTENT_TERMS if key in record)
        self.log(f"step {step}/{self.steps}  lr {record['lr']:.2e}  {'  '.join([*adversarial, content])}  |  "
                 f"{images_per_s:.1f} img/s  data wait {data_share:.0%}")
        self.window = {"waited": 0.0, "computed": 0.0, "images": 0}

    def validation(self, step: int, mean: dict) -> None:
        """A validation's means: TensorBoard ``val/<metric>``, and a ``metrics.jsonl`` line
        ``{"step", "validation": {metric: value}}`` beside the steps' losses."""
        for key, value in mean.items():
            self.writer.add_scalar(f"val/{key}", value, step)
        with (self.out / "metrics.jsonl").open("a") as handle:
            handle.write(json.dumps({"step": step, "validation": mean}) + "\n")

    def images(self, step: int, blurred: torch.Tensor, restored: torch.Tensor, sharp: torch.Tensor) -> None:
        """A blurred | restored | sharp grid of up to 4 samples in TensorBoard."""
        from torchvision.utils import make_grid

        shown = min(4, blurred.shape[0])
        rows = torch.cat([blurred[:shown], restored[:shown].detach(), sharp[:shown]], dim=3).float()
        self.writer.add_image("train/blurred|restored|sharp", make_grid((rows + 1) / 2, nrow=1).clamp(0, 1), step)

    def speed(self) -> dict:
        elapsed = self.totals["waited"] + self.totals["computed"]
        return {"images_per_s": self.totals["images"] / elapsed if elapsed else float("nan"),
                "data_wait_fraction": self.totals["waited"] / elapsed if elapsed else float("nan")}
