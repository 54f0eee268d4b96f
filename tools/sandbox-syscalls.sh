#!/bin/bash
# Finds system calls the service domains make that their seccomp allow-lists lack, and adds them to each service's
# list (services/SERVICE/sandbox.syscalls; the .NET runtime's common part is services/toolstack/Sandbox/runtime.syscalls).
# It runs host tests whose services run sandboxed (their supervisor starts them through disagg-sandbox) with
# DISAGG_SANDBOX_AUDIT=1: a call outside the list is then allowed and logged by the kernel's audit (dmesg, type=1326)
# instead of killing the service. Needs dmesg (root, or kernel.dmesg_restrict=0).
#   tools/sandbox-syscalls.sh [TEST_FILTER]     default: the host tests with guests using disks and networks
#                                               (not SandboxTests: its probe makes a forbidden call on purpose)
#   DISAGG_BIN=DIR tools/sandbox-syscalls.sh    the same with other programs (out/bin with NativeAOT services)
# Review the diff: a new call is a change in what a service can do.
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-FullyQualifiedName~PvosBlkbackTests|FullyQualifiedName~PvosNetworkTests|FullyQualifiedName~DriverDomainTests}
dmesg >/dev/null || { echo "sandbox-syscalls: cannot read dmesg (need root or kernel.dmesg_restrict=0)" >&2; exit 2; }
names=$(mktemp); trap 'rm -f "$names"' EXIT
echo '#include <sys/syscall.h>' | ${CC:-cc} -E -dM - | sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$/\2 \1/p' > "$names"
start=$(dmesg | wc -l)
DISAGG_SANDBOX_AUDIT=1 dotnet test tests/Disagg.Toolstack.Tests -c Release --no-build --nologo --filter "$filter" | tail -3 || true
# comm is the program name cut to 15 bytes; code=0x7ffc0000 is SECCOMP_RET_LOG (the kernel logs kills too: 0x80000000).
# (no such line: nothing to add; grep's status 1 must not end the script under pipefail)
dmesg | tail -n +"$((start + 1))" | { grep 'type=1326' || true; } | { grep 'code=0x7ffc0000' || true; } \
  | sed -n 's/.*comm="disagg-\(xenstore\|netback\|blkback\|qemu-dm\)[a-z]*".* syscall=\([0-9]*\) .*/\1 \2/p' | sort -u \
  | while read -r service nr; do
      [ "$service" = xenstore ] && service=xenstored
      name=$(awk -v n="$nr" '$1 == n {print $2}' "$names")
      list=services/$service/sandbox.syscalls
      grep -qx "$name" "$list" services/toolstack/Sandbox/runtime.syscalls || { echo "$name" >> "$list"; echo "$service: + $name"; }
    done
git --no-pager diff --stat -- services/*/sandbox.syscalls || true
