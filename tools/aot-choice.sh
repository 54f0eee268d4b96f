#!/usr/bin/env bash
# Prints the folder whose programs a script should run: out/aot (NativeAOT, `make publish`) when its stamp
# is newer than each of our assemblies (disagg*.dll, Disagg.*.dll), the sandbox launcher and its allow-lists of the
# last build in out/bin, else out/bin; an out/aot older than the
# build is passed over with a message on stderr (never run stale). DISAGG_JIT=1 always picks out/bin.
# The daemon applies the same rule (services/toolstack/Host/ProgramChoice.cs).
cd "$(dirname "$0")/.."
aot=${AOT_OUT:-out/aot}
if [ "${DISAGG_JIT:-}" != 1 ] && [ -f "$aot/.published" ] && [ -x "$aot/disagg" ]; then
  # Our assemblies, the sandbox launcher and its allow-lists: a change to any of them makes out/aot stale.
  newer=$(find out/bin -maxdepth 2 \( -iname 'disagg*.dll' -o -name disagg-sandbox -o -name '*.syscalls' \) -newer "$aot/.published" 2>/dev/null | head -1)
  if [ -z "$newer" ]; then echo "$aot"; exit 0; fi
  echo "aot-choice: $aot is older than the build in out/bin ($newer); running the JIT build (make publish brings NativeAOT back)" >&2
fi
echo out/bin
