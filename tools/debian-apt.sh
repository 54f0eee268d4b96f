#!/usr/bin/env bash
# Sourced by the fetch-*.sh scripts: a private apt root for Debian trixie riscv64 (its own state, cache and
# sources list; APT::Architecture=riscv64; "all" packages are in the same index), so the machine's own apt
# sources, dpkg architectures and lock stay untouched. `debian_apt ROOT` sets apt_opts for apt-get and
# apt-cache and refreshes the package lists under ROOT.
debian_apt() {
  local root="$1"
  mkdir -p "$root/state/lists/partial" "$root/cache/archives/partial" "$root/etc" "$root/debs"
  # The archive keys: trixie's are in debian-archive-keyring (bookworm ships them too).
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  echo "deb [arch=riscv64 signed-by=$keyring] http://deb.debian.org/debian trixie main" > "$root/etc/sources.list"
  apt_opts=(
    -o "Dir::State=$root/state" -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$root/cache" -o "Dir::Etc::SourceList=$root/etc/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "APT::Architecture=riscv64" -o "APT::Architectures=riscv64"
    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=$(id -un)" -qq
  )
  apt-get "${apt_opts[@]}" update
}
