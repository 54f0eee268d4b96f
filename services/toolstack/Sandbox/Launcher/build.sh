#!/bin/sh
# Builds disagg-sandbox (the supervisor's launcher, disagg-sandbox.c) into $1, with the table of this machine's
# system call numbers taken from the C library's headers, so allow-lists are written with names.
set -e
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT
echo '#include <sys/syscall.h>' | ${CC:-cc} -E -dM - \
  | sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$/{ "\1", \2 },/p' > "$gen/syscall-names.h"
${CC:-cc} -O2 -Wall -Wextra -Werror -I"$gen" -o "$out" "$here/disagg-sandbox.c"
