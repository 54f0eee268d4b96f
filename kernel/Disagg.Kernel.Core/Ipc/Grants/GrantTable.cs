using System.Runtime.CompilerServices;
using Disagg.Abi.Grants;

namespace Disagg.Kernel.Core.Ipc.Grants;

/// <summary>
/// A domain's grant table v1 (spec §3): entries of 8 bytes in frames the domain can write,
/// 512 per frame. The granting guest owns the entries; the kernel only validates them and
/// marks GTF_reading / GTF_writing while it uses a grant, so the guest knows not to end access.
/// Pins are counted in kernel-private memory; no lock is taken.
/// </summary>
public sealed unsafe class GrantTable
{
    private readonly byte*[] _frames;
    private readonly int[] _readPins;
    private readonly int[] _writePins;

    /// <param name="frames">Host addresses of the table's frames, mapped for the table's life.</param>
    public GrantTable(int domainId, byte*[] frames)
    {
        DomainId = domainId;
        _frames = frames;
        _readPins = new int[Capacity];
        _writePins = new int[Capacity];
    }

    public int DomainId { get; }

    public int FrameCount => _frames.Length;

    public int Capacity => _frames.Length * GrantEntryV1.PerPage;

    /// <summary>
    /// Validates grant <paramref name="gref"/> for use by <paramref name="grantee"/> and pins it.
    /// On success the caller must <see cref="Release"/> with the same <paramref name="write"/>.
    /// </summary>
    public GrantStatus TryAcquire(uint gref, int grantee, bool write, out ulong frame)
    {
        frame = 0;
        if (gref >= (uint)Capacity)
        {
            return GrantStatus.BadGntref;
        }

        var pins = write ? _writePins : _readPins;
        Interlocked.Increment(ref pins[gref]);
        var status = SetInUseFlag(gref, grantee, write);
        if (status != GrantStatus.Okay)
        {
            Release(gref, write, validated: false);
            return status;
        }

        frame = Volatile.Read(ref Unsafe.AsRef<uint>(Entry(gref) + 4));
        return GrantStatus.Okay;
    }

    public void Release(uint gref, bool write) => Release(gref, write, validated: true);

    /// <summary>
    /// Set while the domain's dirty log runs: called with the frame when the last writable pin of a grant
    /// goes, because a service may have written the page through its mapping (Xen marks on unmap too).
    /// </summary>
    public Action<ulong>? WriteUnpinned { get; set; }

    /// <summary>Calls <paramref name="visit"/> with the frame of every grant pinned writable now (a ring a backend maps).</summary>
    public void ForEachWritablyPinned(Action<ulong> visit)
    {
        for (var gref = 0u; gref < (uint)Capacity; gref++)
        {
            if (Volatile.Read(ref _writePins[gref]) > 0)
            {
                visit(Volatile.Read(ref Unsafe.AsRef<uint>(Entry(gref) + 4)));
            }
        }
    }

    /// <summary>Reads an entry without pinning it (for diagnostics and dump_table).</summary>
    public GrantEntryV1 Read(uint gref) => gref < (uint)Capacity ? *(GrantEntryV1*)Entry(gref) : default;

    private GrantStatus SetInUseFlag(uint gref, int grantee, bool write)
    {
        // flags (u16) and domid (u16) share the entry's first 32-bit word: one CAS checks both.
        ref var head = ref Unsafe.AsRef<int>(Entry(gref));
        var inUse = (int)(write ? GrantFlags.Writing : GrantFlags.Reading);
        while (true)
        {
            var old = Volatile.Read(ref head);
            var flags = (GrantFlags)(ushort)old;
            var domid = (ushort)(old >>> 16);
            if ((flags & GrantFlags.TypeMask) != GrantFlags.PermitAccess || domid != grantee)
            {
                return GrantStatus.PermissionDenied;
            }

            if (write && (flags & GrantFlags.ReadOnly) != 0)
            {
                return GrantStatus.PermissionDenied;
            }

            if ((old & inUse) != 0 || Interlocked.CompareExchange(ref head, old | inUse, old) == old)
            {
                return GrantStatus.Okay;
            }
        }
    }

    private void Release(uint gref, bool write, bool validated)
    {
        var pins = write ? _writePins : _readPins;
        if (Interlocked.Decrement(ref pins[gref]) != 0 || !validated)
        {
            return;
        }

        if (write && WriteUnpinned is { } unpinned)
        {
            unpinned(Volatile.Read(ref Unsafe.AsRef<uint>(Entry(gref) + 4)));
        }

        ref var head = ref Unsafe.AsRef<int>(Entry(gref));
        var inUse = (int)(write ? GrantFlags.Writing : GrantFlags.Reading);
        Interlocked.And(ref head, ~inUse);
        // Another user may have pinned between our decrement and the clear: put the flag back.
        if (Volatile.Read(ref pins[gref]) != 0)
        {
            Interlocked.Or(ref head, inUse);
        }
    }

    private byte* Entry(uint gref) => _frames[gref / GrantEntryV1.PerPage] + ((gref % GrantEntryV1.PerPage) * 8);
}
