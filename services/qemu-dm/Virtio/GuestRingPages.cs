using Disagg.Control;
using Disagg.Interop;
using Disagg.QemuDm.Hosting;
using Disagg.Virtio.Queue;

namespace Disagg.QemuDm.Virtio;

/// <summary>
/// The guest pages qemu-dm holds mapped: the rings (descriptor table, avail ring, used ring) of every virtqueue the
/// guest driver enabled, each page mapped alone through the kernel (<c>MapGuestPages</c>, Xen's privcmd foreign map),
/// never the RAM whole. Ring accesses — every avail entry, descriptor, used entry and index — then cost a memory copy
/// instead of a control round trip; the buffers a queue points at still move through the kernel.
/// <see cref="Sync"/> follows the queues: a queue enabled gets its pages, a queue reset or faulted gives them back
/// (unmapped here, forgotten by the kernel); a restarted qemu-dm starts with none and maps what its predecessor's
/// queues use when it takes their state back. Serve thread only.
/// </summary>
internal sealed unsafe class GuestRingPages(KernelDevicePlatform platform, Func<ulong, ulong, bool> isRam) : IDisposable
{
    private const ulong PageSize = 4096;

    private readonly List<(ulong Page, SharedMemorySegment Segment)> _pages = [];
    private (ulong Address, ulong Length)[] _orderingPoints = [];

    /// <summary>Pages held mapped now.</summary>
    public int Count => _pages.Count;

    /// <summary>The host address of <paramref name="length"/> bytes at <paramref name="address"/> when they lie in one mapped page.</summary>
    public bool TryLocate(ulong address, int length, out byte* host)
    {
        var page = address & ~(PageSize - 1);
        if ((address & (PageSize - 1)) + (ulong)length <= PageSize)
        {
            foreach (var (p, segment) in _pages)
            {
                if (p == page)
                {
                    host = segment.Pointer + (address - page);
                    return true;
                }
            }
        }

        host = null;
        return false;
    }

    /// <summary>True when every byte of the range lies in mapped pages (it may cross from one into the next).</summary>
    public bool Covers(ulong address, int length)
    {
        if (length <= 0)
        {
            return false;
        }

        var end = address + (ulong)length;
        if (end < address)
        {
            return false;
        }

        for (var a = address; a < end; a = (a & ~(PageSize - 1)) + PageSize)
        {
            if (!TryLocate(a & ~(PageSize - 1), 1, out _))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True when the range touches a field the device reads after writing another that the driver reads (virtio 1.x
    /// §2.7.10 and §2.7.13: used.idx before used_event, avail_event before avail.idx; avail.flags too): such a read must
    /// see the device's earlier writes in place, or the device and driver could each miss the other's notification.
    /// </summary>
    public bool IsOrderingPoint(ulong address, int length)
    {
        foreach (var (a, n) in _orderingPoints)
        {
            if (address < a + n && a < address + (ulong)length)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Maps the rings of every live queue of <paramref name="queues"/> and unmaps pages no queue uses any more. Held
    /// guest-memory writes go first: none may be left pointing at a page about to go, or be read back from the wrong side.
    /// A page the kernel will not map stays unmapped (its accesses go through the kernel, as before).
    /// </summary>
    public void Sync(IEnumerable<Virtqueue> queues)
    {
        platform.FlushGuestWrites();
        var wanted = new SortedSet<ulong>();
        var points = new List<(ulong, ulong)>();
        foreach (var q in queues)
        {
            if (!q.Ready || q.Fault is not null || q.Size == 0)
            {
                continue;
            }

            var size = (ulong)q.Size;
            Want(wanted, q.DescTable, size * (ulong)VirtqDesc.Size);
            Want(wanted, q.AvailRing, 6 + (2 * size));
            Want(wanted, q.UsedRing, 6 + (8 * size));
            points.Add((q.AvailRing, 4)); // flags, idx
            points.Add((q.AvailRing + 4 + (2 * size), 2)); // used_event
        }

        for (var i = _pages.Count - 1; i >= 0; i--)
        {
            if (!wanted.Contains(_pages[i].Page))
            {
                _pages[i].Segment.Dispose();
                platform.UnmapGuestPages(_pages[i].Page, 1);
                _pages.RemoveAt(i);
            }
        }

        foreach (var page in wanted)
        {
            if (!TryLocate(page, 1, out _) && platform.MapGuestPage(page) is { } fd)
            {
                _pages.Add((page, SharedMemorySegment.Map(fd, 1)));
            }
        }

        _orderingPoints = [.. points];
    }

    public void Dispose()
    {
        foreach (var (_, segment) in _pages)
        {
            segment.Dispose();
        }

        _pages.Clear();
    }

    private void Want(SortedSet<ulong> wanted, ulong address, ulong length)
    {
        if (!isRam(address, length))
        {
            return; // the queue faults when it walks there; nothing to map
        }

        for (var page = address & ~(PageSize - 1); page < address + length; page += PageSize)
        {
            wanted.Add(page);
        }
    }
}
