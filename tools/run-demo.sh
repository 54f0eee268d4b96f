#!/usr/bin/env bash
# `make run`: a host in a temporary state dir, the demo guests from examples/*.cfg, `disagg list`
# and their consoles, a save/restore and a live migration to a second host, then a short fault run (each service killed once, its report's summary); runs until
# Ctrl-C, then `disagg host down`.
# Usage: tools/run-demo.sh [--once]   (--once: show everything once, bring the host down, exit)
set -euo pipefail
cd "$(dirname "$0")/.."
once=false
[ "${1:-}" = "--once" ] && once=true
# NativeAOT when `make publish` made out/aot after the last build (`make run` republishes it first).
bin=$(tools/aot-choice.sh)
disagg=$bin/disagg
echo "== programs from $bin"
export DISAGG_STATE_DIR
DISAGG_STATE_DIR=$(mktemp -d /tmp/disagg-demo-XXXXXX)
down() {
  trap - INT TERM EXIT
  echo
  echo "== disagg host down"
  "$disagg" host down || true
  rm -rf "$DISAGG_STATE_DIR"
  if [ -n "${second:-}" ]; then
    DISAGG_STATE_DIR=$second "$disagg" host down >/dev/null 2>&1 || true
    rm -rf "$second"
  fi
}
trap down INT TERM EXIT

echo "== disagg host up (state dir $DISAGG_STATE_DIR)"
"$disagg" host up --memory 512M --http 127.0.0.1:0
"$disagg" service list
[ -s "$DISAGG_STATE_DIR/http.addr" ] && echo "dashboard: http://$(cat "$DISAGG_STATE_DIR/http.addr")/  (Prometheus: /metrics)"
echo

created=()
for cfg in examples/*.cfg; do
  kernel=$(sed -n 's/^kernel *= *"\(.*\)"/\1/p' "$cfg")
  if [ ! -f "examples/$kernel" ]; then
    echo "== skipping $cfg: its kernel examples/$kernel does not exist (run \`make guests\`)"
    continue
  fi
  echo "== disagg create $cfg"
  "$disagg" create "$cfg"
  created+=("$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$cfg")")
done
pvos=guests/build/rv64/pvos.elf
if [ -f "$pvos" ]; then
  # A third guest made by the wizard's non-interactive form: a qcow2 disk (blkback serves it) and a vif (netback's).
  echo "== disagg new demo-disk (qcow2 disk, vif on xenbr0)"
  "$disagg" new demo-disk --kernel "$pvos" --memory 16 --disk-size 64M --disk-format qcow2 --bridge xenbr0 \
    --cmdline app=echo --output "$DISAGG_STATE_DIR/demo-disk.cfg" --non-interactive
  "$disagg" create "$DISAGG_STATE_DIR/demo-disk.cfg"
  created+=(demo-disk)
fi
sleep 1
echo
echo "== disagg list"
"$disagg" list
for name in "${created[@]}"; do
  echo
  echo "== disagg console --batch $name"
  "$disagg" console --batch "$name"
done
if [ -f "$pvos" ] && [ -S "$DISAGG_STATE_DIR/xenstored.sock" ]; then
  echo
  echo "== disagg block-list demo-disk; disagg network-list demo-disk"
  "$disagg" block-list demo-disk
  "$disagg" network-list demo-disk
fi
if [ -S "$DISAGG_STATE_DIR/xenstored.sock" ] && command -v xenstore-ls >/dev/null; then
  echo
  echo "== xenstore-ls /local/domain (XENSTORED_PATH=$DISAGG_STATE_DIR/xenstored.sock)"
  XENSTORED_PATH="$DISAGG_STATE_DIR/xenstored.sock" xenstore-ls /local/domain | head -40 || true # more lines than head takes: xenstore-ls ends on SIGPIPE
fi

if printf '%s\n' "${created[@]}" | grep -qx linux-hvm; then
  # examples/linux-hvm.cfg (after `make linux-guest`): an unmodified Linux, its UART served by qemu-dm-DOMID.
  echo
  echo "== linux-hvm: waiting for its shell on ttyS0 (qemu-dm's UART; a minute or so)"
  for _ in $(seq 1 300); do
    grep -q "disagg-init: shell on" "$DISAGG_STATE_DIR/console/guest-linux-hvm.log" 2>/dev/null && break
    sleep 1
  done
  sleep 3 # the shell's banner and prompt follow the init line
  "$disagg" console --batch linux-hvm | tail -n 12
  echo
  echo "== disagg service list (qemu-dm-N serves linux-hvm; try disagg service kill qemu-dm-N, then disagg console linux-hvm)"
  "$disagg" service list
fi

if printf '%s\n' "${created[@]}" | grep -qx demo-disk; then
  # Save to a file (the guest suspends, its devices disconnect, the domain goes) and restore it: a new domain
  # id, the same memory, its disk and vif reconnected.
  echo
  echo "== disagg save demo-disk; disagg restore (a new domain, the same guest)"
  "$disagg" save demo-disk "$DISAGG_STATE_DIR/demo-disk.save"
  "$disagg" restore "$DISAGG_STATE_DIR/demo-disk.save"
  "$disagg" list
fi

if printf '%s\n' "${created[@]}" | grep -qx demo-disk && [ "${DEMO_MIGRATE:-1}" = 1 ]; then
  # Live migration: a second host on this machine listens with a shared token; demo-disk moves there while it
  # runs (pre-copy, a short stop, its disk and vif reconnected on the target) and the end line gives the downtime.
  echo
  echo "== a second host listening for migrations; disagg migrate demo-disk there, live"
  second=$(mktemp -d /tmp/disagg-demo2-XXXXXX)
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  DISAGG_STATE_DIR=$second "$disagg" host up --memory 128M --listen 127.0.0.1:0 --migration-token "$token" >/dev/null
  addr=
  for _ in $(seq 100); do
    addr=$(grep -o 'migration: listening on [0-9.]*:[0-9]*' "$second/disagg.log" 2>/dev/null | head -1 | awk '{print $4}') || true
    [ -n "$addr" ] && break
    sleep 0.1
  done
  "$disagg" migrate demo-disk "$addr" --token "$token"
  echo "-- on the second host:"
  DISAGG_STATE_DIR=$second "$disagg" list
fi

if [ -f "$pvos" ] && [ -S "$DISAGG_STATE_DIR/xenstored.sock" ] && [ "${DEMO_FAULTS:-1}" = 1 ]; then
  # What Disagg is for: each service domain killed once (seeded) while two guests ping and one verifies its disk;
  # the run checks nothing was lost and prints its report (DEMO_FAULTS=0 skips it).
  echo
  echo "== disagg fault run: netback, blkback and xenstored each killed once while guests ping and write"
  "$disagg" fault run --targets netback,blkback,xenstored --faults kill --every 1s --for 6500ms --seed 1 \
    --report "$DISAGG_STATE_DIR/fault-report" --guest-kernel "$pvos" --max-net-outage 10s --heartbeat 30s \
    | grep -v '^fault: ' || echo "(the fault run found a violation: see $DISAGG_STATE_DIR/fault-report/report.html)"
fi

if $once; then
  exit 0
fi
echo
echo "The host keeps running; try: DISAGG_STATE_DIR=$DISAGG_STATE_DIR $disagg top"
echo "Ctrl-C brings it down."
while true; do sleep 3600; done
