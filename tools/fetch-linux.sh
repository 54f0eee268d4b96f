#!/usr/bin/env bash
# Fetches Debian trixie's riscv64 Linux kernel and busybox-static into a cache outside the
# checkout (DISAGG_CACHE, default ~/.cache/disagg) through a private apt root, so the
# machine's own apt sources and architectures stay untouched. Idempotent: a cached kernel
# and busybox are reused (a fresh clone does not download again). The kernel's modules (virtio-mmio,
# virtio-blk, virtio-net, virtio-rng and ext4 are modules in Debian's config) are kept in
# $cache/modules (the package's lib/modules/<version>, xz-compressed as shipped); a cache from before
# they were kept gets them from the same kernel version, the Image untouched.
# Prints nothing on success when everything is cached; exits non-zero when it cannot fetch.
set -euo pipefail
cache="${DISAGG_CACHE:-$HOME/.cache/disagg}/linux"
mkdir -p "$cache"
have_kernel() { [ -s "$cache/Image" ] && [ -s "$cache/busybox" ] && [ -s "$cache/config" ] && [ -s "$cache/version" ]; }
have_modules() { [ -s "$cache/modules/modules.order" ]; }
if have_kernel && have_modules; then exit 0; fi

root="$cache/apt"
. "$(dirname "$0")/debian-apt.sh"
debian_apt "$root"
x="$root/extract"
# Keeps the extracted package's modules as $cache/modules (replaced whole, by rename).
keep_modules() {
  local m
  m=$(ls -d "$x"/usr/lib/modules/*/ "$x"/lib/modules/*/ 2>/dev/null | head -1 || true)
  [ -n "$m" ] && [ -s "$m/modules.order" ] || { echo "linux-guest: the kernel package has no modules" >&2; exit 1; }
  rm -rf "$cache/modules.tmp"
  mv "$m" "$cache/modules.tmp"
  rm -rf "$cache/modules"
  mv "$cache/modules.tmp" "$cache/modules"
}
if have_kernel; then
  # Only the modules are missing: the same version as the cached Image (its vermagic must match).
  real=$(cat "$cache/version")
  echo "linux-guest: fetching the modules of $real into $cache/modules"
  (cd "$root/debs" && apt-get "${apt_opts[@]}" download "$real")
  rm -rf "$x"; mkdir -p "$x"
  dpkg-deb -x "$root"/debs/"$real"_*.deb "$x"
  keep_modules
  rm -rf "$x" "$root/debs" "$root/cache"
  echo "linux-guest: modules of $real cached"
  exit 0
fi
echo "linux-guest: fetching Debian trixie riscv64 kernel and busybox into $cache"
# linux-image-riscv64 is a meta package: its dependency is the real kernel package.
real=$(apt-cache "${apt_opts[@]}" depends linux-image-riscv64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-riscv64\)$/\1/p' | head -1)
[ -n "$real" ] || { echo "linux-guest: cannot resolve linux-image-riscv64's kernel package" >&2; exit 1; }
(cd "$root/debs" && apt-get "${apt_opts[@]}" download "$real" busybox-static)

rm -rf "$x"; mkdir -p "$x"
for d in "$root"/debs/*.deb; do dpkg-deb -x "$d" "$x"; done
kfile=$(ls "$x"/boot/vmlinu[xz]-* | head -1)
# Debian ships the Image gzip'd (vmlinuz) or raw; the header magic "RISCV\0\0\0" sits at 0x30.
if gzip -t "$kfile" 2>/dev/null; then gzip -dc "$kfile" > "$cache/Image.tmp"; else cp "$kfile" "$cache/Image.tmp"; fi
magic=$(dd if="$cache/Image.tmp" bs=1 skip=48 count=5 2>/dev/null)
[ "$magic" = "RISCV" ] || { echo "linux-guest: $kfile is not a RISC-V Image" >&2; exit 1; }
cp "$(ls "$x"/boot/config-* | head -1)" "$cache/config"
cp "$(ls "$x"/usr/bin/busybox "$x"/bin/busybox 2>/dev/null | head -1)" "$cache/busybox"
echo "${real}" > "$cache/version"
keep_modules
mv "$cache/Image.tmp" "$cache/Image"
rm -rf "$x" "$root/debs" "$root/cache"
echo "linux-guest: $(cat "$cache/version") cached"
