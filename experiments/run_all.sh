#!/usr/bin/env bash
# The queue run for docs/results.md, in priority order, one process at a time, 1 thread.
# Re-running it resumes a killed run from its checkpoint (and re-estimates finished ones).
set -u
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=.venv/bin/python
COMMON="--lr 0.05 --momentum 0.5 --weight-decay 2e-4 --batch-size 100 --seed 0 --threads 1"
run() { echo "=== $(date -u +%T) start $*"; $PY experiments/mnist_rbm.py $COMMON "$@"; echo "=== $(date -u +%T) end rc=$?"; }
run --hidden 25  --method cd  --k 1  --epochs 50
run --hidden 25  --method cd  --k 3  --epochs 50
run --hidden 25  --method cd  --k 25 --epochs 50
run --hidden 500 --method cd  --k 1  --epochs 40
run --hidden 500 --method cd  --k 3  --epochs 40
run --hidden 500 --method pcd --k 1  --epochs 40
run --hidden 500 --method cd  --k 25 --epochs 15
