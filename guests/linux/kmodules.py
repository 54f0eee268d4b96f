"""The kernel modules the Linux HVM guest loads from its initramfs, resolved from Debian's package tree.

Debian's riscv64 config builds virtio-mmio, virtio-blk, virtio-net, virtio-rng and ext4 as modules, and
the package ships no modules.dep (depmod runs at install time), so the closure is read from each
module's own .modinfo "depends=" field. Modules are decompressed here (Debian ships them .ko.xz;
busybox insmod takes a plain ELF), so the initramfs holds exactly what /init loads, in load order.
"""
import lzma
import os
import struct

# What guests/linux/init loads, in this order, each after what it depends on. crc32c_generic is ext4's and
# jbd2's soft dependency ("softdep=pre: crypto-crc32c"): a softdep names an alias, so it is listed here.
WANTED = ["virtio_mmio", "virtio_blk", "virtio_net", "virtio_rng", "crc32c_generic", "ext4"]


def _index(root):
    found = {}
    for d, _, files in os.walk(os.path.join(root, "kernel")):
        for f in files:
            if f.endswith(".ko") or f.endswith(".ko.xz"):
                found[f.split(".ko")[0].replace("-", "_")] = os.path.join(d, f)
    return found


def _elf(path):
    with open(path, "rb") as f:
        data = f.read()
    return lzma.decompress(data) if path.endswith(".xz") else data


def _depends(elf):
    """The "depends=" of an ELF64 module's .modinfo section (comma-separated names, maybe empty)."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise ValueError("not an ELF64 module")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    names = sections[shstrndx][4]
    for s in sections:
        name = elf[names + s[0]:elf.index(b"\0", names + s[0])]
        if name == b".modinfo":
            for kv in elf[s[4]:s[4] + s[5]].split(b"\0"):
                if kv.startswith(b"depends="):
                    return [d for d in kv[8:].decode().split(",") if d]
    return []


def resolve(root, wanted=WANTED):
    """[(name, elf bytes)] in load order: every module after its dependencies, each once."""
    index = _index(root)
    order, elves = [], {}

    def add(name, chain):
        name = name.replace("-", "_")
        if name in elves:
            return
        if name in chain:
            raise ValueError(f"module dependency loop: {' -> '.join(chain + [name])}")
        if name not in index:
            raise ValueError(f"module {name} is not in {root} (needed by {chain[-1] if chain else 'the guest'})")
        elf = _elf(index[name])
        for dep in _depends(elf):
            add(dep, chain + [name])
        elves[name] = elf
        order.append(name)

    for w in wanted:
        add(w, [])
    return [(n, elves[n]) for n in order]
