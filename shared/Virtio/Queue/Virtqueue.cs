using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Disagg.Virtio.Memory;
using Disagg.Virtio.State;

namespace Disagg.Virtio.Queue;

/// <summary>
/// The device side of one split virtqueue (virtio 1.x §2.7): takes chains from the avail ring, walks and
/// checks them (<see cref="ChainWalker"/>), writes used entries, and decides when the guest needs an
/// interrupt (VIRTIO_F_EVENT_IDX or avail.flags).
/// </summary>
/// <remarks>
/// Chains are completed in the order they were taken, one used entry per avail entry, and a chain is
/// completed before the next is taken. So at rest the number of avail entries consumed equals the
/// number of used entries written, and used.idx in guest memory — written last, kernel-owned RAM that
/// outlives qemu-dm — says exactly which requests completed: a restarted device resumes from it and
/// re-executes the rest (<see cref="RestoreState"/>). Guest bad input never throws: the queue records a
/// <see cref="VirtioFault"/>, stops, and its transport sets DEVICE_NEEDS_RESET.
/// </remarks>
public sealed class Virtqueue
{
    /// <summary>
    /// Largest indirect table accepted (QEMU's VIRTQUEUE_MAX_SIZE): bounds the work one chain can make
    /// the device do and the segment array, against a guest naming a 4 GiB table.
    /// </summary>
    public const int MaxIndirectEntries = 1024;

    private readonly IVirtqueueHost _host;
    private readonly IGuestMemory _memory;
    private readonly DescriptorChain _chain;
    private readonly byte[] _indirectTable = new byte[MaxIndirectEntries * VirtqDesc.Size];
    private bool _outstanding;
    private ushort _knownAvailIdx;
    private ushort _signalledUsed;

    internal Virtqueue(IVirtqueueHost host, IGuestMemory memory, int index, ushort maxSize)
    {
        _host = host;
        _memory = memory;
        Index = index;
        MaxSize = maxSize;
        _chain = new DescriptorChain(this, memory, maxSize + MaxIndirectEntries);
        Reset();
    }

    public int Index { get; }

    /// <summary>QueueNumMax.</summary>
    public ushort MaxSize { get; }

    /// <summary>QueueNum: entries in the rings (a power of two once ready).</summary>
    public ushort Size { get; internal set; }

    public bool Ready { get; private set; }

    public ulong DescTable { get; internal set; }

    public ulong AvailRing { get; internal set; }

    public ulong UsedRing { get; internal set; }

    /// <summary>Next avail entry to take (mod 2^16).</summary>
    public ushort LastAvail { get; private set; }

    /// <summary>Next used entry to write (mod 2^16); equals the used.idx last published.</summary>
    public ushort UsedIdx { get; private set; }

    /// <summary>Set when the queue stopped on a guest error; cleared by a device reset.</summary>
    public VirtioFault? Fault { get; private set; }

    /// <summary>Ready, the driver said DRIVER_OK, and the device is not waiting for a reset.</summary>
    internal bool Live { get; set; }

    internal bool EventIdx { get; set; }

    internal bool IndirectDesc { get; set; }

    internal void Reset()
    {
        Size = MaxSize;
        Ready = false;
        DescTable = AvailRing = UsedRing = 0;
        LastAvail = UsedIdx = _signalledUsed = _knownAvailIdx = 0;
        Fault = null;
        Live = false;
        EventIdx = IndirectDesc = false;
        _outstanding = false;
    }

    /// <summary>QueueReady 1: checks size and alignment (§2.7: desc 16, avail 2, used 4) and starts at index 0.</summary>
    internal bool TryEnable()
    {
        LastAvail = UsedIdx = _signalledUsed = _knownAvailIdx = 0;
        _outstanding = false;
        Ready = true;
        if (Size == 0 || Size > MaxSize || (Size & (Size - 1)) != 0)
        {
            Fail(VirtioFaultReason.BadQueueSetup, $"QueueNum {Size} is not a power of two up to {MaxSize}");
            return false;
        }

        if ((DescTable & 15) != 0 || (AvailRing & 1) != 0 || (UsedRing & 3) != 0)
        {
            Fail(VirtioFaultReason.BadQueueSetup, $"misaligned rings desc 0x{DescTable:x} avail 0x{AvailRing:x} used 0x{UsedRing:x}");
            return false;
        }

        return true;
    }

    internal void Disable()
    {
        Ready = false;
        Live = false;
    }

    /// <summary>
    /// Takes the next chain the driver made available. False when there is none, the queue is not live,
    /// or the chain is bad (then <see cref="Fault"/> is set and the queue stops).
    /// </summary>
    public bool TryPop([NotNullWhen(true)] out DescriptorChain? chain)
    {
        chain = null;
        if (!Live || Fault is not null)
        {
            return false;
        }

        if (_outstanding)
        {
            throw new InvalidOperationException($"{_host.DeviceName} queue {Index}: a chain was taken before the previous one was completed");
        }

        // avail.idx is read again only once the entries it announced are taken: one read per batch, not per chain.
        int pending = (ushort)(_knownAvailIdx - LastAvail);
        if (pending == 0 && !TryPendingCount(out pending))
        {
            return false;
        }

        if (pending == 0 && EventIdx)
        {
            // Ask to be notified at the next entry, then look again: an entry added between our read of
            // avail.idx and this write would otherwise be left without a notification (§2.7.10).
            if (!_memory.TryWriteU16(UsedRing + VirtqLayout.AvailEvent(Size), LastAvail))
            {
                return Fail(VirtioFaultReason.OutsideRam, $"used ring 0x{UsedRing:x} is not RAM");
            }

            if (!TryPendingCount(out pending))
            {
                return false;
            }
        }

        if (pending == 0)
        {
            return false;
        }

        var slot = LastAvail & (Size - 1);
        if (!_memory.TryReadU16(AvailRing + VirtqLayout.AvailEntry(slot), out var head))
        {
            return Fail(VirtioFaultReason.OutsideRam, $"avail ring 0x{AvailRing:x} is not RAM");
        }

        if (!ChainWalker.TryWalk(this, _memory, _chain, _indirectTable, head))
        {
            return false;
        }

        LastAvail++;
        _outstanding = true;
        chain = _chain;
        return true;
    }

    /// <summary>Completes the taken chain: writes its used entry (len = bytes written), then publishes used.idx.</summary>
    public void Push(DescriptorChain chain)
    {
        if (!ReferenceEquals(chain, _chain) || !_outstanding)
        {
            throw new InvalidOperationException($"{_host.DeviceName} queue {Index}: completing a chain that was not taken");
        }

        _outstanding = false;
        if (Fault is not null)
        {
            return;
        }

        Span<byte> entry = stackalloc byte[VirtqUsedElem.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(entry, chain.Head);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], chain.BytesWritten);
        var slot = UsedIdx & (Size - 1);
        if (!_memory.TryWrite(UsedRing + VirtqLayout.UsedEntry(slot), entry)
            || !_memory.TryWriteU16(UsedRing + VirtqLayout.IdxOffset, (ushort)(UsedIdx + 1)))
        {
            Fail(VirtioFaultReason.OutsideRam, $"used ring 0x{UsedRing:x} is not RAM");
            return;
        }

        UsedIdx++;
    }

    /// <summary>
    /// After a batch of <see cref="Push"/>es: interrupts the guest once if it asked for it (used_event
    /// crossed with EVENT_IDX, else unless VIRTQ_AVAIL_F_NO_INTERRUPT).
    /// </summary>
    public void FinishBatch()
    {
        if (UsedIdx == _signalledUsed || Fault is not null)
        {
            return;
        }

        var old = _signalledUsed;
        _signalledUsed = UsedIdx;
        bool notify;
        if (EventIdx)
        {
            if (!_memory.TryReadU16(AvailRing + VirtqLayout.UsedEvent(Size), out var usedEvent))
            {
                Fail(VirtioFaultReason.OutsideRam, $"avail ring 0x{AvailRing:x} is not RAM");
                return;
            }

            notify = VirtqLayout.NeedEvent(usedEvent, UsedIdx, old);
        }
        else
        {
            if (!_memory.TryReadU16(AvailRing, out var flags))
            {
                Fail(VirtioFaultReason.OutsideRam, $"avail ring 0x{AvailRing:x} is not RAM");
                return;
            }

            notify = (flags & VirtqRingHeader.AvailNoInterrupt) == 0;
        }

        if (notify)
        {
            _host.UsedBufferNotification();
        }
    }

    /// <summary>Stops the queue on a guest protocol error and tells the transport (DEVICE_NEEDS_RESET). Always false.</summary>
    public bool Fail(VirtioFaultReason reason, string detail)
    {
        if (Fault is null)
        {
            Fault = new VirtioFault(_host.DeviceName, Index, reason, detail);
            Live = false;
            _host.QueueFaulted(Fault);
        }

        return false;
    }

    private bool TryPendingCount(out int pending)
    {
        pending = 0;
        if (!_memory.TryReadU16(AvailRing + VirtqLayout.IdxOffset, out var availIdx))
        {
            return Fail(VirtioFaultReason.OutsideRam, $"avail ring 0x{AvailRing:x} is not RAM");
        }

        pending = (ushort)(availIdx - LastAvail);
        if (pending > Size)
        {
            return Fail(VirtioFaultReason.AvailIndexJump, $"avail.idx {availIdx} is {pending} entries past {LastAvail}, queue size {Size}");
        }

        _knownAvailIdx = availIdx;
        return true;
    }

    internal VirtqueueState SaveState() =>
        new(Size, Ready, DescTable, AvailRing, UsedRing, (ushort)(LastAvail - (_outstanding ? 1 : 0)), UsedIdx);

    /// <summary>
    /// Takes a saved queue back. With <paramref name="reconcile"/> (a restart, when guest memory may be
    /// ahead of the record), used.idx in guest memory decides: entries up to it completed, everything
    /// after it is taken again and re-executed.
    /// </summary>
    internal void RestoreState(VirtqueueState state, bool reconcile)
    {
        Reset();
        Size = state.Size;
        DescTable = state.DescTable;
        AvailRing = state.AvailRing;
        UsedRing = state.UsedRing;
        if (!state.Ready)
        {
            return;
        }

        if (!TryEnable())
        {
            return;
        }

        LastAvail = _knownAvailIdx = state.LastAvail;
        UsedIdx = _signalledUsed = state.UsedIdx;
        if (!reconcile)
        {
            return;
        }

        if (!_memory.TryReadU16(UsedRing + VirtqLayout.IdxOffset, out var guestUsed) || !_memory.TryReadU16(AvailRing + VirtqLayout.IdxOffset, out var guestAvail))
        {
            Fail(VirtioFaultReason.OutsideRam, $"used ring 0x{UsedRing:x} or avail ring 0x{AvailRing:x} is not RAM");
            return;
        }

        // The record is from set-up time (indices are not persisted per request): any number of requests may
        // have completed since. Chains complete in order, one used entry each, so used.idx in guest memory is
        // where to go on; it can only be behind avail.idx, by at most a queue.
        if ((ushort)(guestAvail - guestUsed) > Size)
        {
            Fail(VirtioFaultReason.RestoreMismatch, $"used.idx {guestUsed} is not within a queue ({Size}) behind avail.idx {guestAvail} in guest memory");
            return;
        }

        LastAvail = _knownAvailIdx = guestUsed;
        UsedIdx = _signalledUsed = guestUsed;
    }
}
