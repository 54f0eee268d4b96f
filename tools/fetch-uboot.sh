#!/usr/bin/env bash
# Fetches Debian trixie's u-boot-qemu (an "all" package: every QEMU board's U-Boot) into a cache outside the
# checkout (DISAGG_CACHE, default ~/.cache/disagg) through the private apt root of tools/debian-apt.sh, and
# keeps the RISC-V S-mode build, the one that runs under SBI firmware as an HVM guest does: $cache/u-boot.bin
# (raw, linked at 0x8020_0000), $cache/uboot.elf (the same as an ELF) and $cache/version. Idempotent: a cached
# U-Boot is reused (a fresh clone does not download again). Prints nothing when everything is cached; exits
# non-zero when it cannot fetch.
set -euo pipefail
cache="${DISAGG_CACHE:-$HOME/.cache/disagg}/u-boot"
board=qemu-riscv64_smode
have() { [ -s "$cache/u-boot.bin" ] && [ -s "$cache/uboot.elf" ] && [ -s "$cache/version" ]; }
if have; then exit 0; fi

mkdir -p "$cache"
echo "u-boot: fetching Debian trixie's u-boot-qemu ($board) into $cache"
root="$cache/apt"
. "$(dirname "$0")/debian-apt.sh"
debian_apt "$root"
(cd "$root/debs" && apt-get "${apt_opts[@]}" download u-boot-qemu)
x="$root/extract"
rm -rf "$x"; mkdir -p "$x"
deb=$(ls "$root"/debs/u-boot-qemu_*.deb | head -1)
dpkg-deb -x "$deb" "$x"
src="$x/usr/lib/u-boot/$board"
[ -s "$src/u-boot.bin" ] && [ -s "$src/uboot.elf" ] || { echo "u-boot: $deb has no $board build" >&2; exit 1; }
cp "$src/uboot.elf" "$cache/uboot.elf"
cp "$src/u-boot.bin" "$cache/u-boot.bin.tmp"
basename "$deb" .deb > "$cache/version"
mv "$cache/u-boot.bin.tmp" "$cache/u-boot.bin"
rm -rf "$x" "$root/debs" "$root/cache"
echo "u-boot: $(cat "$cache/version") cached"
