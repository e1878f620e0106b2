#!/usr/bin/env bash
# Follow-up runs after run_all.sh: (1) AIS-vs-exact check on the 25-hidden CD1/CD3 models,
# (2) continue the 500-hidden CD1 and CD3 runs from their 40-epoch checkpoints to 100 epochs
# (the checkpoint is copied under the new run name; train_rbm resumes it bit-identically).
set -u
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=.venv/bin/python
COMMON="--lr 0.05 --momentum 0.5 --weight-decay 2e-4 --batch-size 100 --seed 0 --threads 1"
R=experiments/runs
echo "=== $(date -u +%T) start ais_check"
$PY experiments/ais_check.py $R/h25_cd1_e50_lr0.05_m0.5_wd0.0002_b100_s0.model $R/h25_cd3_e50_lr0.05_m0.5_wd0.0002_b100_s0.model
for k in 1 3; do
  cp -n $R/h500_cd${k}_e40_lr0.05_m0.5_wd0.0002_b100_s0.ckpt $R/h500_cd${k}_e100_lr0.05_m0.5_wd0.0002_b100_s0.ckpt
  echo "=== $(date -u +%T) start h500 cd$k to 100 epochs"
  $PY experiments/mnist_rbm.py $COMMON --hidden 500 --method cd --k $k --epochs 100
  echo "=== $(date -u +%T) end rc=$?"
done
