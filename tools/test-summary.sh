#!/usr/bin/env bash
# Sums the TRX result files of every test project (and the guest ISA runs, which write
# TRX-like counters too) into the single closing line CI reads: "N passed, N failed".
# Failed tests are named just above that line (with the first line of their message),
# because CI shows only the tail of the output.
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
  [ "$fl" -gt 0 ] && echo "FAILED: $(basename "$f" .count) (test host crashed or never reported)"
done
if [ "$failed" -gt 0 ]; then
  for f in "$dir"/*.trx; do
    # One <UnitTestResult ...> element per test; its <Message> follows inside it.
    awk -v proj="$(basename "$f" .trx)" '
      /<UnitTestResult / { inres = 1; name = ""; bad = 0
        if (match($0, /testName="[^"]*"/)) name = substr($0, RSTART + 10, RLENGTH - 11)
        if ($0 ~ /outcome="Failed"/) bad = 1
        msg = "" }
      inres && bad && msg == "" && /<Message>/ { sub(/.*<Message>/, ""); sub(/<\/Message>.*/, ""); msg = substr($0, 1, 400) }
      inres && (/<\/UnitTestResult>/ || /<UnitTestResult [^>]*\/>/) {
        if (bad) printf "FAILED: %s: %s\n    %s\n", proj, name, msg
        inres = 0 }' "$f"
  done
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
