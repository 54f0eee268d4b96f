using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Memory;

namespace Disagg.Kernel.Core.Migration;

/// <summary>
/// A domain's dirty log for live migration (Xen's XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY / _CLEAN / _OFF).
/// The P2M marks a frame on its first write per round: both CPU engines reach memory through the soft TLB,
/// whose write entries are only installed after the P2M was asked for the frame with forWrite, and every
/// round's clear bumps the memory generation so those entries go. Grant copies ask the P2M the same way.
/// What the P2M cannot see is a service writing through a grant it mapped: a writable map counts as
/// dirty in every round it is held, and its unmap marks the frame once more. So does a ring page an HVM domain's
/// device model holds mapped (<see cref="Ioreq.DeviceModelPages"/>).
/// </summary>
public static class DirtyLog
{
    /// <summary>How long a running vCPU may take to reach a block boundary and drop its old write entries.</summary>
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(10);

    /// <summary>Starts (or restarts) the log with nothing marked.</summary>
    public static void Enable(Domain domain)
    {
        var memory = domain.Memory;
        domain.Grants.WriteUnpinned = memory.MarkDirty;
        memory.SetDirtyLogging(true);
    }

    public static void Disable(Domain domain)
    {
        domain.Grants.WriteUnpinned = null;
        domain.Memory.SetDirtyLogging(false);
    }

    /// <summary>
    /// Read-and-clear: the frames written since the last clean (bit i: RAM frame i, then the special pages),
    /// and a new round begins. Returns only once every vCPU of the domain has dropped the write entries of
    /// the round just taken, so a store through an old entry has landed before the caller copies the page:
    /// such a store's frame is always in the returned bitmap (its entry was installed after marking it).
    /// </summary>
    public static ulong[] Clean(Hypervisor hypervisor, Domain domain)
    {
        var memory = domain.Memory;
        if (!memory.DirtyLogging)
        {
            throw new InvalidOperationException($"domain {domain.Id}: the dirty log is off");
        }

        var bitmap = memory.TakeDirtyBitmap();
        var generation = memory.Generation;
        foreach (var v in domain.Vcpus)
        {
            var hart = v.Hart;
            var sched = v.Sched;
            if (!SpinWait.SpinUntil(() => hart.ObservedGeneration - generation >= 0 || !hypervisor.Scheduler.IsOnCpu(sched), CatchUp))
            {
                throw new InvalidOperationException($"domain {domain.Id}: vcpu {v.Id} did not reach a block boundary within {CatchUp.TotalSeconds} s");
            }
        }

        domain.Grants.ForEachWritablyPinned(frame => Mark(memory, bitmap, frame));
        domain.Ioreq?.RingPages.ForEach(frame => Mark(memory, bitmap, frame)); // used rings qemu-dm writes through its mapping
        return bitmap;
    }

    /// <summary>Pages set in a bitmap.</summary>
    public static long Count(ReadOnlySpan<ulong> bitmap)
    {
        var n = 0L;
        foreach (var word in bitmap)
        {
            n += System.Numerics.BitOperations.PopCount(word);
        }

        return n;
    }

    private static void Mark(P2m memory, ulong[] bitmap, ulong frame)
    {
        long bit;
        if (frame - PvLayout.RamFirstFrame < (ulong)memory.MaxPages)
        {
            bit = (long)(frame - PvLayout.RamFirstFrame);
        }
        else if (PvLayout.IsSpecialFrame(frame))
        {
            bit = memory.MaxPages + (long)(frame - PvLayout.SpecialFirstFrame);
        }
        else
        {
            return;
        }

        bitmap[bit >> 6] |= 1UL << (int)(bit & 63);
    }
}
