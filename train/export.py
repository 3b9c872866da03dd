"""Export a trained generator alone, in fp16, for shipping: ``python -m train.export RUN/checkpoint.pt OUT.pt``.

The file is a checkpoint that ``deblur`` reads like any other (the generator's weights, the
settings that rebuild it, the step) without the critic, the optimisers or the random states: a
0.35 M-parameter generator takes 0.7 MB. Weights are stored in fp16 and loaded back into fp32.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from train.checkpoint import load_checkpoint, restoring_weights, save_checkpoint


def export_generator(checkpoint: str | Path, out: str | Path) -> Path:
    state = load_checkpoint(checkpoint)
    weights = {key: value.half() if value.is_floating_point() else value for key, value in restoring_weights(state).items()}
    return save_checkpoint(Path(out), {"generator": weights, "args": state["args"], "step": state["step"], "exported_from": str(checkpoint)})


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: python -m train.export RUN/checkpoint.pt OUT.pt")
    out = export_generator(sys.argv[1], sys.argv[2])
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB, step {int(torch.load(out, weights_only=True)['step'])}")


if __name__ == "__main__":
    main()
