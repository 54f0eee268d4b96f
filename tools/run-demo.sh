#!/usr/bin/env bash
# `make run`: shows what this build of Disagg can do right now.
# Until the host daemon exists it boots the demo guests straight on the kernel's ELF runner.
# Usage: tools/run-demo.sh [--once]   (--once is accepted for scripts; the demo always ends by itself today)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=out/bin
echo "Disagg — programs in $bin:"
for p in "$bin"/disagg*; do
  [ -x "$p" ] && [ ! -d "$p" ] && case "$p" in *.dll|*.json|*.pdb) ;; *) echo "  $(basename "$p")";; esac
done
echo
echo "Guest images in guests/build:"
for w in rv64 rv32; do
  n=$(ls guests/build/$w/*.elf 2>/dev/null | wc -l)
  echo "  $w: $n ELF images"
done
echo
for w in rv64 rv32; do
  elf=guests/build/$w/hello.elf
  [ -f "$elf" ] || continue
  echo "== booting $elf on disagg-kernel (run-elf)"
  "$bin/disagg-kernel" run-elf "$elf" --stats || echo "(exit code $?)"
  echo
done
