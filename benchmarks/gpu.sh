#!/usr/bin/env bash
# The prepared GPU check: CUDA tests and every GPU benchmark, in one command, under 8 minutes on
# one H100 (estimated from the step speeds measured there: about 7 minutes; each part has its own
# time limit, and a part that fails or runs out of time is reported while the rest still runs).
#
# Needs: a CUDA GPU; python with torch, torchvision, numba, OpenCV, typer, rich, scipy,
# scikit-image, tensorboard and pytest. pycocotools and webdataset may be absent (the tests that
# need them are not run here). Run it from the repository root; nothing needs to be installed
# (every script imports this checkout).
#
# Writes: benchmarks/results/{blur,train-cuda,infer-cuda,motion-cuda,quality-cuda,critic-probe-cuda}.json (and the
# .md of the last two), and copies them, with a log of everything printed, to $OUT when it is set. The quality
# benchmark's runs go to a temporary folder (five rows; its CUDA budgets: 600 steps of 16 for the recipe and
# the views row, 300 for the comparisons, 2,400 images at batch 1 for the paper's algorithm; not yet timed on a GPU).
#
# Usage: bash benchmarks/gpu.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
results=benchmarks/results
log="${OUT:-$results}/gpu-check.log"
mkdir -p "$(dirname "$log")"
status=0

step() {  # step NAME SECONDS COMMAND...: run one part with a time limit; a failure is reported, the rest still runs
    local name=$1 limit=$2; shift 2
    local started=$SECONDS
    echo "=== $name (limit ${limit}s)" | tee -a "$log"
    timeout "$limit" "$@" 2>&1 | tee -a "$log"
    local code=${PIPESTATUS[0]}
    echo "=== $name: exit $code after $((SECONDS - started)) s" | tee -a "$log"
    [ "$code" -eq 0 ] || status=1
}

python -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU'; print(torch.cuda.get_device_name(), torch.__version__)" 2>&1 | tee -a "$log" || exit 1
step "CUDA tests" 120 python -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_convolve_torch.py::test_cuda_equals_cpu tests/test_pairs.py::test_device_path_equals_the_cpu_path tests/test_motion.py::test_the_torch_path_equals_the_cpu_path
step "blur benchmark" 60 python benchmarks/blur.py --quick
step "train benchmark" 120 python benchmarks/train.py
step "inference benchmark" 45 python benchmarks/infer.py
step "motion benchmark" 60 python benchmarks/motion.py --pairs 10
step "critic probe" 30 python benchmarks/critic_probe.py
quality_runs=$(mktemp -d)
step "quality benchmark" 330 python benchmarks/quality.py --runs "$quality_runs/quality" --rows recipe,views,views-short,mixture,paper

if [ -n "${OUT:-}" ]; then
    cp "$results"/blur.json "$results"/train-cuda.json "$results"/infer-cuda.json "$results"/motion-cuda.json \
        "$results"/quality-cuda.json "$results"/quality-cuda.md "$results"/critic-probe-cuda.json "$results"/critic-probe-cuda.md \
        "$OUT"/ 2>/dev/null
fi
echo "GPU check finished in $SECONDS s, status $status" | tee -a "$log"
exit $status
