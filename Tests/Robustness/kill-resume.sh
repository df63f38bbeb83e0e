#!/bin/bash
# kill -9 and resume (docs/robustness.md): one uninterrupted `tiny` run against runs killed
# with SIGKILL at random moments (a checkpoint every 2 steps, so many kills land in a
# checkpoint write) and resumed until done; the final checkpoints are compared dataset by
# dataset, bit for bit (weights, EMA, Adam moments, random-generator states).
# Usage: Tests/Robustness/kill-resume.sh [RUNS] [STEPS]   (from the repository root;
# ECDP=path of the binary, default .build/release/ecdp; PYTHON with h5py, default .venv-bench/bin/python)
set -u
RUNS=${1:-3} STEPS=${2:-120}
B=${ECDP:-.build/release/ecdp} PY=${PYTHON:-.venv-bench/bin/python}
D=$(mktemp -d /tmp/ecdp-kill-resume.XXXXXX)
SET="--set schedule.checkpoint_every=2 --set schedule.validate_every=0 --set schedule.sample_every=0"
$B train --config tiny $SET --run $D/ref --steps $STEPS --threads 1 > $D/ref.log 2>&1 || { echo "reference run failed"; exit 1; }
kills=0
for r in $(seq 1 $RUNS); do
  run=$D/run$r
  $B train --config tiny $SET --run $run --steps $STEPS --threads 1 >> $run.log 2>&1 & pid=$!
  while true; do
    sleep $($PY -c "import random; print(random.uniform(0.5, 3.0))")
    if kill -0 $pid 2>/dev/null; then
      kill -9 $pid && kills=$((kills + 1)); wait $pid 2>/dev/null
    else
      wait $pid || { echo "run $r failed: see $run.log"; exit 1; }
      break
    fi
    if [ -f $run/checkpoint.h5 ]; then $B resume $run --steps $STEPS --threads 1 >> $run.log 2>&1 & pid=$!
    else rm -rf $run; $B train --config tiny $SET --run $run --steps $STEPS --threads 1 >> $run.log 2>&1 & pid=$!; fi
  done
done
echo "$kills kills over $RUNS runs of $STEPS steps"
$PY Tests/Robustness/compare_checkpoints.py $D/ref/checkpoint.h5 $D/run*/checkpoint.h5
