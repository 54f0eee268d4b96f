#!/usr/bin/env bash
# Sums the TRX result files of every test project (and the guest ISA runs, which write
# TRX-like counters too) into the single closing line CI reads: "N passed, N failed".
set -u
dir=${1:?results dir}
passed=0; failed=0; skipped=0
shopt -s nullglob
for f in "$dir"/*.trx; do
  line=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$line"); p=${p:-0}
  fl=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$line"); fl=${fl:-0}
  to=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$line"); to=${to:-0}
  ex=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$line"); ex=${ex:-0}
  er=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$line"); er=${er:-0}
  passed=$((passed + p)); failed=$((failed + fl + er)); skipped=$((skipped + to - ex))
done
for f in "$dir"/*.count; do
  read -r p fl < "$f"
  passed=$((passed + p)); failed=$((failed + fl))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
