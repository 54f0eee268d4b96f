using Disagg.Abi.Events;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Memory;

namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>
/// memory_op for a guest's own memory: the balloon driver gives frames back
/// (decrease_reservation) and takes them again (increase_reservation and populate_physmap both
/// take guest frame numbers, as on Xen's Arm port), within maxmem and the host budget. Like Xen,
/// each returns how many extents it completed, stopping at the first one it cannot do.
/// </summary>
public static class MemoryOpHypercall
{
    /// <summary>Extents one call may carry (order 0 extents: pages); more means more calls.</summary>
    public const ulong MaxExtents = 1 << 16;

    public static long Handle(P2m p2m, int domainId, IGuestMemoryAccess memory, uint cmd, ulong arg)
    {
        switch ((MemoryOp)cmd)
        {
            case MemoryOp.DecreaseReservation:
            case MemoryOp.IncreaseReservation:
            case MemoryOp.PopulatePhysmap:
                return Reservation(p2m, domainId, memory, (MemoryOp)cmd, arg);
            case MemoryOp.CurrentReservation:
            case MemoryOp.MaximumReservation:
                {
                    if (!memory.TryRead(arg, out ushort dom))
                    {
                        return Errno.Efault;
                    }

                    if (dom != DomainIds.Self && dom != domainId)
                    {
                        return Errno.Esrch;
                    }

                    return (MemoryOp)cmd == MemoryOp.CurrentReservation ? p2m.PopulatedPages : p2m.MaxPages;
                }

            case MemoryOp.MaximumRamPage:
                return (long)(PvLayout.RamFirstFrame + (ulong)p2m.MaxPages - 1);
            default:
                return Errno.Enosys;
        }
    }

    private static long Reservation(P2m p2m, int domainId, IGuestMemoryAccess memory, MemoryOp op, ulong arg)
    {
        if (!memory.TryRead(arg, out MemoryReservation r))
        {
            return Errno.Efault;
        }

        if (r.DomId != DomainIds.Self && r.DomId != domainId)
        {
            return Errno.Eperm;
        }

        // Only 4 KiB extents: a superpage balloon (order > 0) is not offered (Xen too refuses orders it cannot back).
        if (r.ExtentOrder != 0 || r.MemFlags != 0)
        {
            return Errno.Einval;
        }

        if (r.NrExtents > MaxExtents)
        {
            return Errno.E2big;
        }

        long done = 0;
        for (ulong i = 0; i < r.NrExtents; i++)
        {
            if (!memory.TryRead(r.ExtentStart + (i * 8), out ulong frame))
            {
                return done == 0 ? Errno.Efault : done;
            }

            var ok = op == MemoryOp.DecreaseReservation ? p2m.Depopulate(frame) : p2m.Populate(frame);
            if (!ok)
            {
                break;
            }

            done++;
        }

        return done;
    }
}
