using Disagg.Interop;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;

namespace Disagg.Kernel.Core.Ioreq;

/// <summary>
/// The pages of its domain's RAM a device model holds mapped: the virtqueue rings (descriptor table, avail and used
/// ring) of each queue its guest driver enabled, as Xen's privcmd maps a target's foreign frames for a stub domain's
/// QEMU. Each page is handed over alone (<see cref="Memory.P2m.ShareFrame"/> moves it into a memfd of its own, the
/// guest keeps it where it was), never the RAM as one descriptor; everything else a queue points at (the buffers)
/// the device model still copies through the kernel (<see cref="DeviceModelMemory"/>). It could copy those pages
/// anyway, so a mapping gives it no more than it had: what it saves is a control round trip per ring access.
/// <para>
/// The record is what the kernel knows it handed out: the device model unmaps a queue's pages when the driver resets
/// it, and a restarted device model (its first request is <c>MapIoreqPage</c>) starts from none, the dead process's
/// mappings gone with it. While the dirty log runs every page here counts as written in every round: the device
/// model writes used rings through its mapping, which the P2M cannot see (as a backend's writable grant map).
/// </para>
/// </summary>
public sealed class DeviceModelPages(Hypervisor hypervisor, Domain domain)
{
    /// <summary>
    /// Pages one device model may hold: 8 virtio-mmio slots x 2 queues x at most 6 pages of rings (256 entries each,
    /// none page-aligned), with room to spare. Bounds what a device model that never unmaps can pin.
    /// </summary>
    public const int MaxPages = 256;

    /// <summary>Pages one request may map: a descriptor passing message carries at most 16 descriptors.</summary>
    public const int MaxPagesPerRequest = UnixRights.MaxFds;

    private readonly HashSet<ulong> _frames = [];

    /// <summary>Pages held now.</summary>
    public int Count
    {
        get
        {
            lock (_frames)
            {
                return _frames.Count;
            }
        }
    }

    /// <summary>
    /// Maps <paramref name="pages"/> pages from the page-aligned <paramref name="address"/>, all within the domain's RAM:
    /// one descriptor per page (the caller sends and then disposes them), or null and why not.
    /// </summary>
    public FileDescriptor[]? Map(ulong address, int pages, out string? why)
    {
        var ramEnd = VirtLayout.RamBase + ((ulong)domain.Memory.PopulatedPages * 4096);
        if ((address & 0xFFF) != 0 || pages < 1 || pages > MaxPagesPerRequest || address < VirtLayout.RamBase
            || address + ((ulong)pages * 4096) > ramEnd || address + ((ulong)pages * 4096) < address)
        {
            why = $"domain {domain.Id}: {pages} pages at 0x{address:x} are not whole pages within its RAM 0x{VirtLayout.RamBase:x}-0x{ramEnd:x} (1..{MaxPagesPerRequest} a request)";
            return null;
        }

        lock (_frames)
        {
            var fresh = 0;
            for (var i = 0; i < pages; i++)
            {
                fresh += _frames.Contains((address >> 12) + (ulong)i) ? 0 : 1;
            }

            if (_frames.Count + fresh > MaxPages)
            {
                why = $"domain {domain.Id}: its device model holds {_frames.Count} pages mapped; {fresh} more would pass {MaxPages}";
                return null;
            }

            var fds = new FileDescriptor[pages];
            for (var i = 0; i < pages; i++)
            {
                var frame = (address >> 12) + (ulong)i;
                var shared = domain.GrantView.TryEnter() ? Share(frame) : null;
                if (shared is null)
                {
                    for (var j = 0; j < i; j++)
                    {
                        fds[j].Dispose();
                    }

                    why = $"domain {domain.Id}: guest frame 0x{frame:x} cannot be shared (the domain is going away, or the page is not there)";
                    return null;
                }

                fds[i] = shared.Duplicate();
            }

            for (var i = 0; i < pages; i++)
            {
                _frames.Add((address >> 12) + (ulong)i);
            }

            why = null;
            return fds;
        }
    }

    /// <summary>The device model let the pages go (it unmapped them).</summary>
    public void Unmap(ulong address, int pages)
    {
        lock (_frames)
        {
            for (var i = 0; i < pages && i < MaxPages; i++)
            {
                _frames.Remove((address >> 12) + (ulong)i);
            }
        }
    }

    /// <summary>A new device model process: whatever its predecessor mapped went with it.</summary>
    public void Forget()
    {
        lock (_frames)
        {
            _frames.Clear();
        }
    }

    /// <summary>Calls <paramref name="visit"/> with every frame held mapped (the dirty log marks them).</summary>
    public void ForEach(Action<ulong> visit)
    {
        ulong[] frames;
        lock (_frames)
        {
            frames = [.. _frames];
        }

        foreach (var f in frames)
        {
            visit(f);
        }
    }

    /// <summary>Entered through the domain's grant view (the caller did): its memory stays while the page moves.</summary>
    private FileDescriptor? Share(ulong frame)
    {
        try
        {
            return domain.Memory.ShareFrame(frame, () => new DomainQuiesce(hypervisor, domain));
        }
        catch (InteropException)
        {
            return null;
        }
        finally
        {
            domain.GrantView.Exit();
        }
    }
}
