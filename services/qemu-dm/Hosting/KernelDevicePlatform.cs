using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.QemuDm.Devices;

namespace Disagg.QemuDm.Hosting;

/// <summary>
/// The devices' requests to the kernel, over the service's control connection, each answered before the device
/// goes on. Guest-memory writes are held and sent with the next request that needs them in place
/// (<see cref="GuestMemoryBatch"/>): a read (they go first, in order, in the same round trip), an interrupt
/// level, a shutdown, or <see cref="FlushGuestWrites"/> before an ioreq is answered. So the guest sees every write
/// before anything that follows it, and a virtio request pays a round trip per read, not per copy. Writes to the ring
/// pages qemu-dm holds mapped (<see cref="WriteMapped"/>) land at once, unless writes through the kernel are held:
/// then they wait behind those and land when the batch has been answered.
/// </summary>
internal sealed unsafe class KernelDevicePlatform(KernelClient kernel, int domain) : IDevicePlatform
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<GuestMemoryWrite> _held = [];
    private int _heldBytes;

    // Ring writes held behind _held (used entries, used.idx, avail_event: a few bytes each), in order. Preallocated:
    // the ring path allocates nothing.
    private readonly byte[] _mappedBytes = new byte[4096];
    private readonly (nint Target, int Offset, int Length)[] _mapped = new (nint, int, int)[256];
    private int _mappedCount;
    private int _mappedUsed;

    /// <summary>Round trips to the kernel for guest memory since start (reads, and batches of held writes).</summary>
    public long GuestMemoryRoundTrips { get; private set; }

    /// <summary>Guest-memory copies the devices asked for since start (what one round trip each used to cost).</summary>
    public long GuestMemoryCopies { get; private set; }

    /// <summary>Of <see cref="GuestMemoryCopies"/>, those done through a mapped ring page (no round trip).</summary>
    public long MappedCopies { get; private set; }

    /// <summary>Guest-memory writes are held (through the kernel, and ring writes behind them).</summary>
    public bool HoldsWrites => _held.Count > 0 || _mappedCount > 0;

    public void SetIrqLevel(int irq, bool asserted)
    {
        FlushGuestWrites();
        Call(new SetIrqLevel(domain, irq, asserted));
    }

    public void Shutdown(ShutdownReason reason)
    {
        FlushGuestWrites();
        Call(new DeviceModelShutdown(domain, (int)reason));
    }

    public void ReadGuest(ulong address, Span<byte> destination)
    {
        GuestMemoryCopies++;
        for (var done = 0; done < destination.Length;)
        {
            var n = Math.Min(destination.Length - done, 64 * 1024);
            var reply = kernel.CallAsync<GuestMemoryData>(new GuestMemoryBatch(domain, TakeHeld(), address + (ulong)done, n)).WaitAsync(Patience).GetAwaiter().GetResult();
            GuestMemoryRoundTrips++;
            ApplyMapped(); // the batch carried the writes held before them
            reply.Data.CopyTo(destination[done..]);
            done += n;
        }
    }

    public void CountMappedCopy()
    {
        GuestMemoryCopies++;
        MappedCopies++;
    }

    /// <summary>
    /// A write to a mapped ring page (<paramref name="target"/> in it): now, unless writes through the kernel are held,
    /// then behind them (so a used entry never shows before the buffer it completes).
    /// </summary>
    public void WriteMapped(byte* target, ReadOnlySpan<byte> source)
    {
        if (_held.Count > 0 && (_mappedCount == _mapped.Length || _mappedUsed + source.Length > _mappedBytes.Length))
        {
            FlushGuestWrites();
        }

        if (_held.Count == 0)
        {
            source.CopyTo(new Span<byte>(target, source.Length));
            Interlocked.MemoryBarrier();
            return;
        }

        source.CopyTo(_mappedBytes.AsSpan(_mappedUsed));
        _mapped[_mappedCount++] = ((nint)target, _mappedUsed, source.Length);
        _mappedUsed += source.Length;
    }

    /// <summary>MapGuestPages of one page: its descriptor, or null when the kernel will not map it (it is then copied through the kernel).</summary>
    public Interop.FileDescriptor? MapGuestPage(ulong page)
    {
        try
        {
            var (_, fds) = kernel.CallWithFdsAsync<GuestPagesMapped>(new MapGuestPages(domain, page, 1)).WaitAsync(Patience).GetAwaiter().GetResult();
            return fds.Length == 1 ? fds[0] : null;
        }
        catch (KernelRequestException)
        {
            return null;
        }
    }

    /// <summary>Tells the kernel the pages are unmapped (it forgets them).</summary>
    public void UnmapGuestPages(ulong page, int pages) => Call(new UnmapGuestPages(domain, page, pages));

    public void WriteGuest(ulong address, ReadOnlySpan<byte> source)
    {
        GuestMemoryCopies++;
        for (var done = 0; done < source.Length;)
        {
            var n = Math.Min(source.Length - done, 64 * 1024);
            if (_heldBytes + n > GuestMemoryBatch.MaxWriteBytes)
            {
                FlushGuestWrites();
            }

            _held.Add(new GuestMemoryWrite(address + (ulong)done, source.Slice(done, n).ToArray()));
            _heldBytes += n;
            done += n;
        }
    }

    /// <summary>Sends the held writes; after it returns they are in guest memory.</summary>
    public void FlushGuestWrites()
    {
        if (_held.Count == 0)
        {
            ApplyMapped();
            return;
        }

        kernel.CallAsync<GuestMemoryData>(new GuestMemoryBatch(domain, TakeHeld(), 0, 0)).WaitAsync(Patience).GetAwaiter().GetResult();
        GuestMemoryRoundTrips++;
        ApplyMapped();
    }

    /// <summary>The ring writes held behind a batch the kernel has now done, in order.</summary>
    private void ApplyMapped()
    {
        if (_mappedCount == 0)
        {
            return;
        }

        for (var i = 0; i < _mappedCount; i++)
        {
            var (target, offset, length) = _mapped[i];
            _mappedBytes.AsSpan(offset, length).CopyTo(new Span<byte>((void*)target, length));
        }

        Interlocked.MemoryBarrier();
        _mappedCount = 0;
        _mappedUsed = 0;
    }

    private GuestMemoryWrite[] TakeHeld()
    {
        if (_held.Count == 0)
        {
            return [];
        }

        var writes = _held.ToArray();
        _held.Clear();
        _heldBytes = 0;
        return writes;
    }

    private void Call(ControlMessage request) => kernel.CallAsync<OkReply>(request).WaitAsync(Patience).GetAwaiter().GetResult();
}
