#!/usr/bin/env python3
"""Builds the Linux HVM test guest's initramfs: an uncompressed newc cpio holding Debian's
busybox-static (riscv64), its applet links in /bin and /sbin, our /init and, given the kernel's
module tree, the modules /init loads (kmodules.py: virtio-mmio, virtio-blk, virtio-net, virtio-rng,
ext4) in /lib/modules with their load order in /lib/modules/load.

usage: mkinitramfs.py BUSYBOX OUT.cpio [MODULES-DIR]
The archive is reproducible (fixed mtimes, inode numbers in order), so the same inputs give the
same bytes. No cpio tool is needed on the build host.
"""
import os
import sys

import kmodules

HERE = os.path.dirname(os.path.abspath(__file__))
# Applets the init script and test commands use; busybox dispatches on argv[0].
APPLETS = ["sh", "cat", "echo", "mount", "mkdir", "poweroff", "ls", "uname", "grep", "head", "wc", "sleep", "dmesg", "true",
           "insmod", "umount", "sync", "cp", "rm", "dd", "md5sum", "sha256sum", "cmp", "seq", "tr", "od", "hexdump", "time", "date",
           "ifconfig", "ip", "ping", "route", "sed", "awk", "tail", "find", "xargs", "test", "[", "devmem", "blockdev"]


def entry(ino, name, mode, data=b"", nlink=1):
    name_bytes = name.encode() + b"\0"
    fields = [0x070701, ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_bytes), 0]
    header = b"".join(b"%08X" % f for f in fields[1:])
    out = b"070701" + header + name_bytes
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def build(busybox_path, modules_dir=None):
    with open(busybox_path, "rb") as f:
        busybox = f.read()
    with open(os.path.join(HERE, "init"), "rb") as f:
        init = f.read()
    files = [
        ("bin", 0o040755, b""), ("sbin", 0o040755, b""), ("dev", 0o040755, b""),
        ("proc", 0o040755, b""), ("sys", 0o040755, b""), ("tmp", 0o041777, b""),
        ("dev/console", 0o020600, b""),  # char 5:1, fixed up below
        ("bin/busybox", 0o100755, busybox),
        ("init", 0o100755, init),
    ]
    if modules_dir:
        modules = kmodules.resolve(modules_dir)
        files += [("lib", 0o040755, b""), ("lib/modules", 0o040755, b"")]
        files += [("lib/modules/" + name + ".ko", 0o100644, elf) for name, elf in modules]
        files.append(("lib/modules/load", 0o100644, "".join(name + "\n" for name, _ in modules).encode()))
    for applet in APPLETS:
        files.append(("bin/" + applet, 0o120777, b"busybox"))
    files.append(("sbin/poweroff", 0o120777, b"../bin/busybox"))
    out = b""
    for ino, (name, mode, data) in enumerate(files, start=1):
        rec = entry(ino, name, mode, data, nlink=2 if mode & 0o040000 else 1)
        if name == "dev/console":
            # rdevmajor/rdevminor are the 10th and 11th header fields (after the magic).
            rec = rec[:6 + 8 * 9] + b"%08X%08X" % (5, 1) + rec[6 + 8 * 11:]
        out += rec
    out += entry(0, "TRAILER!!!", 0)
    out += b"\0" * (-len(out) % 512)
    return out


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    data = build(sys.argv[1], sys.argv[3] if len(sys.argv) == 4 else None)
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, sys.argv[2])


if __name__ == "__main__":
    main()
