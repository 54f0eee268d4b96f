using System.Runtime.CompilerServices;
using Disagg.Abi.Grants;
using Disagg.Interop;

namespace Disagg.Service;

/// <summary>
/// A native frontend's grant table (grant_entry_v1, 512 per page), shared with the kernel, written here as a
/// guest writes its own: domid and frame first, flags last with a barrier, so the kernel never sees a valid
/// entry with stale fields. Ending access fails while the kernel has the grant in use (GTF_reading/writing),
/// as gnttab_end_foreign_access_ref does. Which refs are free is the caller's business (as in a guest).
/// </summary>
public sealed unsafe class ServiceGrantTable
{
    private readonly SharedMemorySegment _table;

    internal ServiceGrantTable(SharedMemorySegment table) => _table = table;

    public int Capacity => (int)_table.Pages * GrantEntryV1.PerPage;

    /// <summary>Lets <paramref name="domid"/> copy (and map, for a shared page) <paramref name="frame"/> through <paramref name="gref"/>.</summary>
    public void GrantAccess(uint gref, int domid, ulong frame, bool readOnly)
    {
        var entry = Entry(gref);
        if (frame > uint.MaxValue || (uint)domid > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(frame), $"grant {gref}: frame {frame:x} for domain {domid} does not fit a v1 entry");
        }

        entry->DomId = (ushort)domid;
        entry->Frame = (uint)frame;
        Volatile.Write(ref entry->Flags, (ushort)(GrantFlags.PermitAccess | (readOnly ? GrantFlags.ReadOnly : 0)));
    }

    /// <summary>Revokes <paramref name="gref"/>; false (and still granted) while the kernel is using it.</summary>
    public bool EndAccess(uint gref)
    {
        ref var head = ref Unsafe.AsRef<int>(Entry(gref));
        while (true)
        {
            var old = Volatile.Read(ref head);
            if ((old & (int)(GrantFlags.Reading | GrantFlags.Writing)) != 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref head, old & ~0xffff, old) == old)
            {
                return true;
            }
        }
    }

    /// <summary>True while the kernel copies from or to the grant, or a service holds it mapped.</summary>
    public bool InUse(uint gref) => (Volatile.Read(ref Entry(gref)->Flags) & (ushort)(GrantFlags.Reading | GrantFlags.Writing)) != 0;

    private GrantEntryV1* Entry(uint gref) =>
        gref < (uint)Capacity
            ? (GrantEntryV1*)(_table.Pointer + ((long)gref * sizeof(GrantEntryV1)))
            : throw new ArgumentOutOfRangeException(nameof(gref), $"grant {gref} of a {Capacity}-entry table");
}
