using Disagg.Interop;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;
using Disagg.Kernel.Core.Ipc.Grants;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Memory;

/// <summary>
/// A domain's physical-to-machine map: guest frame -> host page, for its RAM (populated up to
/// maxmem, the rest ballooned out) and its special pages (<see cref="PvLayout"/>). The vCPUs'
/// TLBs cache what <see cref="Frame"/> answers; every change that could make an answer wrong
/// (balloon, a grant-mapped page moving, a new dirty-log round) invalidates them first.
/// Dirty logging marks a frame on its first write per round: writable TLB entries are only
/// handed out for frames already marked, so later writes cost nothing.
/// A vCPU on another pCPU notices an invalidation at its next block boundary; a store it makes
/// before then lands in this domain's own backing page, never in another domain's memory.
/// </summary>
public sealed unsafe class P2m : PhysicalMemory, IGuestFrames, IDisposable
{
    private readonly nint[] _ram;
    private readonly nint[] _special;
    private readonly IRamBacking _ramBacking;
    private readonly IRamBacking _specialBacking;
    private readonly HostMemoryBudget _budget;
    private readonly ulong[] _dirty;
    private readonly object _balloonLock = new();
    private volatile bool _dirtyLogging;
    private readonly Dictionary<ulong, FileDescriptor> _shared = [];
    private long _populated;
    private long _limit;

    /// <param name="initialPages">RAM populated at creation (memory=); the backing holds maxmem.</param>
    public P2m(int domainId, IRamBacking ram, IRamBacking special, long initialPages, HostMemoryBudget budget)
    {
        if (initialPages > ram.Pages || special.Pages < PvLayout.SpecialPages)
        {
            throw new ArgumentException($"domain {domainId}: {initialPages} initial pages in {ram.Pages} of backing, {special.Pages} special pages");
        }

        DomainId = domainId;
        _ramBacking = ram;
        _specialBacking = special;
        _budget = budget;
        _ram = new nint[ram.Pages];
        _special = new nint[PvLayout.SpecialPages];
        _dirty = new ulong[(ram.Pages + PvLayout.SpecialPages + 63) / 64];
        budget.Reserve(domainId, initialPages + PvLayout.SpecialPages);
        for (var i = 0L; i < initialPages; i++)
        {
            _ram[i] = (nint)ram.Page(i);
        }

        for (var i = 0; i < PvLayout.SpecialPages; i++)
        {
            _special[i] = (nint)special.Page(i);
        }

        _populated = initialPages;
        _limit = ram.Pages;
    }

    /// <summary>
    /// mem-max: the balloon may not grow the domain past this many pages (at most the backing's
    /// size). A limit below what the guest has now leaves it be; it just cannot grow.
    /// </summary>
    public long Limit
    {
        get => Volatile.Read(ref _limit);
        set => Volatile.Write(ref _limit, Math.Clamp(value, 0, _ram.Length));
    }

    public int DomainId { get; }

    /// <summary>RAM pages the domain has now (what the balloon leaves it).</summary>
    public long PopulatedPages => Volatile.Read(ref _populated);

    /// <summary>The most RAM pages it may ever have (maxmem).</summary>
    public long MaxPages => _ram.Length;

    public bool DirtyLogging => _dirtyLogging;

    /// <summary>An HVM domain's MMIO dispatch; null for a PV domain, whose accesses outside RAM are access faults.</summary>
    public MmioBus? Mmio { get; set; }

    public override MmioResult ReadMmio(ulong address, int size, out ulong value)
    {
        if (Mmio is { } bus)
        {
            return bus.Read(address, size, out value);
        }

        value = 0;
        return MmioResult.Fault;
    }

    public override MmioResult WriteMmio(ulong address, int size, ulong value) => Mmio?.Write(address, size, value) ?? MmioResult.Fault;

    public override byte* Frame(ulong frame, bool forWrite)
    {
        var ramIndex = frame - PvLayout.RamFirstFrame;
        nint page;
        long bit;
        if (ramIndex < (ulong)_ram.Length)
        {
            page = Volatile.Read(ref _ram[ramIndex]);
            bit = (long)ramIndex;
        }
        else if (PvLayout.IsSpecialFrame(frame))
        {
            var s = (long)(frame - PvLayout.SpecialFirstFrame);
            page = _special[s];
            bit = _ram.Length + s;
        }
        else
        {
            return null;
        }

        if (forWrite && page != 0 && _dirtyLogging)
        {
            Interlocked.Or(ref _dirty[bit >> 6], 1UL << (int)(bit & 63));
        }

        return (byte*)page;
    }

    public byte* TryGetFrame(ulong frame, bool write) => Frame(frame, write);

    /// <summary>The host address of a special page (start_info, shared_info, rings, grant frames).</summary>
    public byte* Special(int page) => (byte*)_special[page];

    /// <summary>
    /// A descriptor for exactly one frame of this domain (RAM or a special page), for a service that
    /// maps it (a granted ring, the console or xenstore page). The first time, the page moves into a
    /// memfd of its own at the same host address, so vCPUs and their cached translations keep using it;
    /// <paramref name="quiesce"/> runs around the move to keep the domain's vCPUs from writing meanwhile.
    /// Null if the frame is not this domain's memory. The descriptor stays owned by the P2M.
    /// </summary>
    public FileDescriptor? ShareFrame(ulong frame, Func<IDisposable> quiesce)
    {
        lock (_balloonLock)
        {
            if (_shared.TryGetValue(frame, out var fd))
            {
                return fd;
            }

            var page = Frame(frame, forWrite: false);
            if (page == null)
            {
                return null;
            }

            using (quiesce())
            {
                fd = PageAdoption.Adopt(page, $"disagg-d{DomainId}-frame-{frame:x}");
            }

            _shared[frame] = fd;
            return fd;
        }
    }

    /// <summary>
    /// Balloon out (decrease_reservation): the frame's memory goes back to the host. False if the
    /// frame is not populated RAM (already out, a special page, outside the domain).
    /// </summary>
    public bool Depopulate(ulong frame)
    {
        var index = frame - PvLayout.RamFirstFrame;
        if (index >= (ulong)_ram.Length)
        {
            return false;
        }

        lock (_balloonLock)
        {
            if (_ram[index] == 0 || _shared.ContainsKey(frame))
            {
                return false; // a page a service maps stays, as Xen keeps a foreign-mapped page alive
            }

            Volatile.Write(ref _ram[index], 0);
            InvalidateTranslations(); // no vCPU may keep writing to the page we are about to discard
            _ramBacking.Discard((long)index);
            _populated--;
            _budget.Release(1);
            return true;
        }
    }

    /// <summary>Balloon in (increase_reservation / populate_physmap): up to maxmem and within the host budget.</summary>
    public bool Populate(ulong frame)
    {
        var index = frame - PvLayout.RamFirstFrame;
        if (index >= (ulong)_ram.Length)
        {
            return false;
        }

        lock (_balloonLock)
        {
            if (_ram[index] != 0)
            {
                return true; // already there: populate is idempotent
            }

            if (_populated >= _limit || !_budget.TryReserve(1))
            {
                return false;
            }

            Volatile.Write(ref _ram[index], (nint)_ramBacking.Page((long)index));
            _populated++;
            return true;
        }
    }

    /// <summary>Starts or stops a dirty log; starting clears it and makes every vCPU re-ask for writable pages.</summary>
    public void SetDirtyLogging(bool on)
    {
        Array.Clear(_dirty);
        _dirtyLogging = on;
        InvalidateTranslations();
    }

    /// <summary>
    /// Read-and-clear: the frames written since the last call (RAM frames first, then special
    /// pages, as bit indices in the returned bitmap), and a new round begins.
    /// </summary>
    public ulong[] TakeDirtyBitmap()
    {
        var taken = new ulong[_dirty.Length];
        for (var i = 0; i < _dirty.Length; i++)
        {
            taken[i] = Interlocked.Exchange(ref _dirty[i], 0);
        }

        InvalidateTranslations();
        return taken;
    }

    /// <summary>Marks a frame written behind the vCPUs' backs (a service's writable grant map); no-op unless logging.</summary>
    public void MarkDirty(ulong frame) => Frame(frame, forWrite: true);

    /// <summary>Frames marked in the current round so far (no clear): the size of the next round.</summary>
    public long CountDirty()
    {
        var n = 0L;
        for (var i = 0; i < _dirty.Length; i++)
        {
            n += System.Numerics.BitOperations.PopCount(Volatile.Read(ref _dirty[i]));
        }

        return n;
    }

    /// <summary>The guest frame number of bit <paramref name="bit"/> of a dirty bitmap.</summary>
    public ulong FrameOfDirtyBit(long bit) => bit < _ram.Length
        ? PvLayout.RamFirstFrame + (ulong)bit
        : PvLayout.SpecialFirstFrame + (ulong)(bit - _ram.Length);

    public void Dispose()
    {
        lock (_balloonLock)
        {
            if (_populated >= 0)
            {
                _budget.Release(_populated + PvLayout.SpecialPages);
                _populated = -1;
            }

            foreach (var fd in _shared.Values)
            {
                fd.Dispose();
            }

            _shared.Clear();
        }

        InvalidateTranslations();
        _ramBacking.Dispose();
        _specialBacking.Dispose();
    }
}
