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
    # One <UnitTestResult ...> element per test; its <Message> follows inside it, often many lines (a
    # console dump): the first line says what failed, the last lines what the guest printed last.
    awk -v proj="$(basename "$f" .trx)" '
      /<UnitTestResult / { inres = 1; name = ""; bad = 0; n = 0; inmsg = 0; seen = 0
        if (match($0, /testName="[^"]*"/)) name = substr($0, RSTART + 10, RLENGTH - 11)
        if ($0 ~ /outcome="Failed"/) bad = 1 }
      inres && bad && !seen && /<Message>/ { inmsg = 1; seen = 1; sub(/.*<Message>/, "") }
      inres && bad && inmsg { line = $0; done = sub(/<\/Message>.*/, "", line)
        if (line != "") lines[n++] = substr(line, 1, 200)
        if (done) inmsg = 0 }
      inres && (/<\/UnitTestResult>/ || /<UnitTestResult [^>]*\/>/) {
        if (bad) {
          printf "FAILED: %s: %s\n", proj, name
          if (n > 0) printf "    %s\n", lines[0]
          if (n > 13) print "    [...]"
          for (k = (n > 13 ? n - 12 : 1); k < n; k++) printf "    | %s\n", lines[k]
        }
        inres = 0 }' "$f"
  done
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
