using Disagg.DiskImage;
using Disagg.QemuDm.Devices;
using Disagg.Virtio.Blk;
using Disagg.Virtio.Device;
using Disagg.Virtio.Memory;
using Disagg.Virtio.Net;
using Disagg.Virtio.Queue;
using Disagg.Virtio.Rng;
using Disagg.Virtio.Transport;

namespace Disagg.QemuDm.Virtio;

/// <summary>
/// Builds QEMU virt's eight virtio-mmio slots for qemu-dm: the devices the command line asked for (the
/// k-th in slot 7 - k) over one guest memory and the kernel's PLIC, each with its state file in the state
/// directory, and empty slots for the rest. Disk images are opened here, so a missing or wrong image stops
/// qemu-dm before it serves anything (<see cref="DiskImageException"/>).
/// </summary>
internal sealed class VirtioSlots : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    /// <param name="nicPorts">The switch side of each `--nic`, in order: the n-th NIC's device is built over the n-th port.</param>
    public VirtioSlots(IReadOnlyList<VirtioDeviceSpec> specs, IDevicePlatform platform, IGuestMemory memory, string stateDirectory, int domain, Action<VirtioFault> faulted, IReadOnlyList<Net.NicPort>? nicPorts = null)
    {
        if (specs.Count > VirtioSlot.Count)
        {
            throw new ArgumentException($"{specs.Count} virtio devices do not fit QEMU virt's {VirtioSlot.Count} slots");
        }

        var slots = new VirtioSlot[VirtioSlot.Count];
        var disks = 0;
        var nics = 0;
        try
        {
            for (var k = 0; k < specs.Count; k++)
            {
                var index = VirtioSlot.Count - 1 - k;
                var slot = new VirtioSlot(index, platform, Path.Combine(stateDirectory, $"qemu-dm-{domain}.slot{index}.virtio"), faulted);
                IVirtioDevice device = specs[k] switch
                {
                    VirtioDeviceSpec.Disk d => Disk(d, disks++),
                    VirtioDeviceSpec.Rng => new VirtioRngDevice($"virtio-rng slot {index}"),
                    VirtioDeviceSpec.Nic n => Nic(n, nicPorts![nics++], index),
                    var other => throw new ArgumentException($"qemu-dm cannot build {other}"),
                };
                slot.Plug(new VirtioMmioTransport(device, memory, slot, slot));
                slots[index] = slot;
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        for (var n = 0; n < slots.Length; n++)
        {
            slots[n] ??= new VirtioSlot(n, platform);
        }

        All = slots;
    }

    /// <summary>Slot 0 to 7.</summary>
    public IReadOnlyList<VirtioSlot> All { get; } = [];

    /// <summary>
    /// Closes the devices; a writable disk is flushed first (fdatasync), as blkback does before it lets a disk go: a
    /// save or a migration hands the disk to the next qemu-dm only after this one has ended.
    /// </summary>
    public void Dispose()
    {
        foreach (var o in _owned)
        {
            try
            {
                if (o is IDiskImage { ReadOnly: false } disk)
                {
                    disk.Flush();
                }
            }
            catch (DiskImageException)
            {
                // the disk's own error reached the guest with its last request; closing it is all that is left
            }

            o.Dispose();
        }

        _owned.Clear();
    }

    private static VirtioNetDevice Nic(VirtioDeviceSpec.Nic spec, Net.NicPort port, int slot)
    {
        var device = new VirtioNetDevice($"virtio-net {port.Name} slot {slot} ({spec.Option.Mac} on {spec.Option.Bridge})", spec.Option.MacBytes, port);
        port.Device = device;
        return device;
    }

    private VirtioBlkDevice Disk(VirtioDeviceSpec.Disk spec, int n)
    {
        var image = DiskImages.Open(spec.Path, spec.Format, spec.ReadOnly);
        _owned.Add(image);
        var name = $"vd{(char)('a' + n)}";
        return new VirtioBlkDevice($"virtio-blk {name} ({spec.Path})", image, $"disagg-{name}");
    }
}
