using Disagg.QemuDm.Devices;
using Disagg.Virtio.Queue;
using Disagg.Virtio.State;
using Disagg.Virtio.Transport;

namespace Disagg.QemuDm.Virtio;

/// <summary>
/// One of QEMU virt's eight virtio-mmio slots (0x1000_1000 + n·0x1000, PLIC source 1 + n) as a qemu-dm
/// window: a shared/Virtio transport behind it, or nothing (an empty slot answers MagicValue, Version 2,
/// DeviceID 0 and VendorID "QEMU", as QEMU's unplugged transports do). The transport's level interrupt
/// is the PLIC line through SetIrqLevel; its state record is written to <see cref="StateFile"/> before the
/// access that changed it is answered, so a restarted qemu-dm never finds an older record than the guest saw.
/// </summary>
internal sealed class VirtioSlot : IMmioWindow, IInterruptLine, IVirtioTransportObserver
{
    public const ulong FirstBase = 0x1000_1000;
    public const ulong Stride = 0x1000;
    public const int Count = 8;
    public const int FirstIrq = 1;

    private const uint MagicValue = 0x7472_6976; // "virt"
    private const uint QemuVendorId = 0x554D_4551; // "QEMU"

    private readonly IDevicePlatform _platform;
    private readonly Action<VirtioFault>? _faulted;
    private VirtioMmioTransport? _transport;

    /// <summary>An empty slot, or one whose transport is plugged in with <see cref="Plug"/>.</summary>
    public VirtioSlot(int index, IDevicePlatform platform, string? stateFile = null, Action<VirtioFault>? faulted = null)
    {
        if (index is < 0 or >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "QEMU virt has virtio-mmio slots 0..7");
        }

        Index = index;
        StateFile = stateFile;
        _platform = platform;
        _faulted = faulted;
    }

    public int Index { get; }

    public int Irq => FirstIrq + Index;

    public ulong Base => FirstBase + ((ulong)Index * Stride);

    public ulong Size => Stride;

    public string? StateFile { get; }

    public VirtioMmioTransport? Transport => _transport;

    /// <summary>The level last sent to the kernel (null: not sent by this process yet).</summary>
    public bool? Line { get; private set; }

    /// <summary>
    /// Called after the transport's record changed (queue set-up, reset, a fault) and after a predecessor's record was
    /// taken back: qemu-dm maps the rings of the queues now live (<see cref="GuestRingPages"/>).
    /// </summary>
    public Action? RingsChanged { get; set; }

    /// <summary>Puts <paramref name="transport"/> (built with this slot as its line and observer) behind the slot.</summary>
    public void Plug(VirtioMmioTransport transport) => _transport = transport;

    public ulong Read(ulong offset, int size)
    {
        if (_transport is { } t)
        {
            // Refused accesses (narrow, misaligned, size 8) read 0, as QEMU's virtio-mmio does.
            return t.TryRead((uint)offset, size, out var value) ? value : 0;
        }

        return (offset, size) switch
        {
            (0x000, 4) => MagicValue,
            (0x004, 4) => 2, // Version: virtio-mmio 2
            (0x00c, 4) => QemuVendorId,
            _ => 0, // DeviceID 0: nothing here
        };
    }

    public void Write(ulong offset, int size, ulong value) => _transport?.TryWrite((uint)offset, size, (uint)value);

    /// <summary>
    /// After start: takes back a predecessor's record if there is one (queues resume from used.idx in guest
    /// memory, requests taken but not completed run again), then sends the line's level as the state says:
    /// the kernel may still hold the level a dead predecessor set. A record that is not this device's is a
    /// <see cref="VirtioStateException"/>. Returns the requests completed while resuming (taken by the dead
    /// process and run again, or made available while nobody served them), or null when there was no record.
    /// </summary>
    public int? Resume()
    {
        if (_transport is not { } t || StateFile is null)
        {
            return null;
        }

        var record = VirtioStateFile.Read(t.DeviceName, StateFile);
        int? completed = null;
        if (record is not null)
        {
            t.RestoreState(record, afterRestart: true);
            RingsChanged?.Invoke();
            var before = 0;
            for (var q = 0; q < t.QueueCount; q++)
            {
                before += t.Queue(q).UsedIdx;
            }

            t.Resume();
            completed = 0;
            for (var q = 0; q < t.QueueCount; q++)
            {
                completed += t.Queue(q).UsedIdx;
            }

            completed = (ushort)(completed - before);
        }

        SetLevel(t.InterruptStatus != 0, force: true);
        return completed;
    }

    void IInterruptLine.SetLevel(bool asserted) => SetLevel(asserted, force: false);

    void IVirtioTransportObserver.StateChanged()
    {
        if (_transport is { } t && StateFile is not null)
        {
            VirtioStateFile.Write(StateFile, t.SaveState());
        }

        RingsChanged?.Invoke();
    }

    void IVirtioTransportObserver.Faulted(VirtioFault fault) => _faulted?.Invoke(fault);

    private void SetLevel(bool asserted, bool force)
    {
        if (force || Line != asserted)
        {
            _platform.SetIrqLevel(Irq, asserted);
            Line = asserted;
        }
    }
}
