#!/bin/bash
# Regenerates the seccomp allow-lists the supervisor starts service domains with (services/*/sandbox.syscalls,
# and the .NET runtime's common part, services/toolstack/Sandbox/runtime.syscalls): runs each service's test
# project with every service program wrapped in `strace -f -c`, then writes what each service called.
#   tools/sandbox-syscalls.sh [BIN_DIR...]   (default: out/bin; give out/bin out/aot to cover JIT and NativeAOT)
# A name already in a list stays (the lists only grow: a call seen once is a call the service makes); review the
# diff: a new call is a change in what a service can do.
set -euo pipefail
cd "$(dirname "$0")/.."
bins=("$@"); [ ${#bins[@]} -gt 0 ] || bins=(out/bin)
services=(xenstored netback blkback)
declare -A tests=([xenstored]=tests/Disagg.Xenstored.Tests [netback]=tests/Disagg.Netback.Tests [blkback]=tests/Disagg.Blkback.Service.Tests)
traces=$(mktemp -d)
for bin in "${bins[@]}"; do
  bin=$(cd "$bin" && pwd)
  wrap=$(mktemp -d)
  for f in "$bin"/*; do ln -s "$f" "$wrap/"; done
  for s in "${services[@]}"; do
    rm "$wrap/disagg-$s"
    printf '#!/bin/sh\nexec strace -f -qq -c -o "%s/%s.$$" "%s" "$@"\n' "$traces" "$s" "$bin/disagg-$s" > "$wrap/disagg-$s"
    chmod +x "$wrap/disagg-$s"
  done
  for s in "${services[@]}"; do
    echo "== $s ($bin)"
    DISAGG_BIN="$wrap" dotnet test "${tests[$s]}" -c Release --no-build --nologo -v q ${TEST_ARGS:-} | tail -2 || true
  done
  rm -rf "$wrap"
done
# strace -c's table: calls in the last column; exit and exit_group never return, so they are never counted.
names() { cat "$traces/$1".* 2>/dev/null | awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {print $NF}'; }
runtime=services/toolstack/Sandbox/runtime.syscalls
merge() { # FILE HEADER NAMES...: the union of the file's names and the new ones, sorted, under its header
  local file=$1 header=$2; shift 2
  { printf '%s\n' "$header"; { grep -v '^#' "$file" 2>/dev/null || true; printf '%s\n' "$@"; } | sed '/^$/d' | sort -u; } > "$file.new"
  mv "$file.new" "$file"
}
common=$(for s in "${services[@]}"; do names "$s" | sort -u; done | sort | uniq -c | awk -v n=${#services[@]} '$1 == n {print $2}')
merge "$runtime" "# The .NET runtime's system calls (JIT and NativeAOT) that every service makes; tools/sandbox-syscalls.sh regenerates it." exit exit_group $common
for s in "${services[@]}"; do
  own=$(names "$s" | sort -u | comm -23 - <(grep -v '^#' "$runtime" | sort -u))
  merge "services/$s/sandbox.syscalls" "# $s's system calls beyond services/toolstack/Sandbox/runtime.syscalls; tools/sandbox-syscalls.sh regenerates it." $own
done
rm -rf "$traces"
git --no-pager diff --stat -- services/*/sandbox.syscalls "$runtime" || true
