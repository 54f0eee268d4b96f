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
/// before anything that follows it, and a virtio request pays a round trip per read, not per copy.
/// </summary>
internal sealed class KernelDevicePlatform(KernelClient kernel, int domain) : IDevicePlatform
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<GuestMemoryWrite> _held = [];
    private int _heldBytes;

    /// <summary>Round trips to the kernel for guest memory since start (reads, and batches of held writes).</summary>
    public long GuestMemoryRoundTrips { get; private set; }

    /// <summary>Guest-memory copies the devices asked for since start (what one round trip each used to cost).</summary>
    public long GuestMemoryCopies { get; private set; }

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
            reply.Data.CopyTo(destination[done..]);
            done += n;
        }
    }

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
            return;
        }

        kernel.CallAsync<GuestMemoryData>(new GuestMemoryBatch(domain, TakeHeld(), 0, 0)).WaitAsync(Patience).GetAwaiter().GetResult();
        GuestMemoryRoundTrips++;
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
