#!/usr/bin/env bash
# make chaos: the 10-minute fault run of issue 15. A host started with --fault-injection (temp state dir), its own
# workload guests, every fault kind on netback, blkback and xenstored every CHAOS_EVERY (2s) for CHAOS_FOR (10m),
# seed CHAOS_SEED (1). The report stays in out/chaos (report.json, report.html); the figures docs/FAULT-INJECTION.md
# records are printed at the end (tools/fault-figures.py). Binaries: out/aot when published and fresh, else out/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(tools/aot-choice.sh 2>/dev/null || echo out/bin)
disagg=$bin/disagg
[ -x "$disagg" ] || { echo "chaos: $disagg missing; run make build" >&2; exit 2; }
report=${CHAOS_REPORT:-out/chaos}
rm -rf "$report"; mkdir -p "$report"
export DISAGG_STATE_DIR
DISAGG_STATE_DIR=$(mktemp -d /tmp/chaos-XXXXXX)
trap '"$disagg" host down >/dev/null 2>&1 || true; rm -rf "$DISAGG_STATE_DIR"' EXIT
printf 'services = xenstored,netback,blkback\n' > "$DISAGG_STATE_DIR/host.conf"
echo "chaos: binaries in $bin; host in $DISAGG_STATE_DIR; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$disagg" host up --memory 256M --fault-injection
status=0
"$disagg" fault run --targets netback,blkback,xenstored \
  --faults kill,stop,segv,swap,ring-delay,ring-drop-notify,ring-spurious-notify,copy-error,disk-eio,journal-tear \
  --every "${CHAOS_EVERY:-2s}" --for "${CHAOS_FOR:-10m}" --seed "${CHAOS_SEED:-1}" --report "$report" \
  --guest-kernel guests/build/rv64/pvos.elf "$@" || status=$?
echo "chaos: load after $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$report/report.json" ] && python3 tools/fault-figures.py "$report/report.json"
exit $status
