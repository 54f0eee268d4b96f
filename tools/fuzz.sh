#!/usr/bin/env bash
# Long hostile-guest fuzz run of the vCPU engine (`make fuzz ARGS="--seconds 600 --seed 7 --engine translate"`).
# Random instruction streams, page tables, CSRs and interrupts; fails on any exception, hang or
# write outside guest RAM. The bounded fixed-seed version runs in `make test` (Disagg.Kernel.Cpu.Tests).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzzer=out/bin/disagg-cpu-fuzz
[ -x "$fuzzer" ] || { echo "fuzz: $fuzzer missing; run make build" >&2; exit 2; }
seconds=300
seed=$(date +%s)
engine=interp
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    *) echo "usage: tools/fuzz.sh [--seconds N] [--seed S] [--engine interp|translate]" >&2; exit 2 ;;
  esac
done
echo "fuzz: $engine engine for ${seconds}s, seed $seed (rerun with --seed $seed --engine $engine)"
# A hang is a failure too: allow the run a generous margin, then kill it.
timeout --signal=KILL $((seconds * 2 + 60)) "$fuzzer" --seconds "$seconds" --seed "$seed" --engine "$engine"
