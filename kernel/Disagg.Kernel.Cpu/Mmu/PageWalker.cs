namespace Disagg.Kernel.Cpu;

/// <summary>
/// Sv39 (RV64) and Sv32 (RV32) page-table walks (priv spec 4.3.2 / 4.4). The walker sets A and D itself,
/// as hardware may, with a compare-and-swap so another hart's update is never lost. Page tables that do
/// not lie in RAM give an access fault; everything else wrong is a page fault of the access's kind.
/// </summary>
public sealed unsafe partial class Hart
{
    private const ulong PteV = 1;
    private const ulong PteR = 2;
    private const ulong PteW = 4;
    private const ulong PteX = 8;
    private const ulong PteU = 16;
    private const ulong PteA = 64;
    private const ulong PteD = 128;

    private long _statPageWalks;

    internal enum Access
    {
        Read = 0,
        Write = 1,
        Execute = 2,
    }

    private static ulong PageFaultCause(Access access) => access switch
    {
        Access.Read => CauseLoadPageFault,
        Access.Write => CauseStorePageFault,
        _ => CauseFetchPageFault,
    };

    private static ulong AccessFaultCause(Access access) => access switch
    {
        Access.Read => CauseLoadAccess,
        Access.Write => CauseStoreAccess,
        _ => CauseFetchAccess,
    };

    /// <summary>
    /// Translates a virtual address for an access at the current privilege. On failure raises the
    /// fault (stval = va) and returns false. <paramref name="superpage"/> tells the TLB that a
    /// per-address SFENCE.VMA must flush everything.
    /// </summary>
    private bool Translate(ulong va, Access access, out ulong pa, out bool superpage)
    {
        superpage = false;
        if (_rv64 ? (_satp >> 60) == 0 : (_satp >> 31) == 0)
        {
            pa = va;
            return true;
        }

        _statPageWalks++;
        ulong cause;
        if (_rv64)
        {
            cause = WalkSv39(va, access, out pa, out superpage);
        }
        else
        {
            cause = WalkSv32(va, access, out pa, out superpage);
        }

        if (cause == ulong.MaxValue)
        {
            return true;
        }

        RaiseException(cause, va);
        return false;
    }

    private ulong WalkSv39(ulong va, Access access, out ulong pa, out bool superpage)
    {
        pa = 0;
        superpage = false;
        if ((ulong)((long)va << 25 >> 25) != va)
        {
            return PageFaultCause(access);
        }

        for (var attempt = 0; attempt < 4; attempt++)
        {
            var table = (_satp & ((1UL << 44) - 1)) << 12;
            for (var level = 2; level >= 0; level--)
            {
                var pteAddress = table + (((va >> (12 + (9 * level))) & 511) * 8);
                var host = _memory.Frame(pteAddress >> 12, false);
                if (host == null)
                {
                    return AccessFaultCause(access);
                }

                var ptep = (ulong*)(host + (pteAddress & 0xFFF));
                var pte = Volatile.Read(ref *ptep);
                if ((pte & PteV) == 0 || ((pte & PteR) == 0 && (pte & PteW) != 0) || (pte >> 54) != 0)
                {
                    return PageFaultCause(access);
                }

                var ppn = (pte >> 10) & ((1UL << 44) - 1);
                if ((pte & (PteR | PteX)) == 0)
                {
                    if (level == 0 || (pte & (PteA | PteD | PteU)) != 0)
                    {
                        return PageFaultCause(access);
                    }

                    table = ppn << 12;
                    continue;
                }

                var span = 12 + (9 * level);
                if (level > 0 && (ppn & ((1UL << (9 * level)) - 1)) != 0)
                {
                    return PageFaultCause(access);
                }

                var verdict = CheckLeaf(pteAddress, pte, access);
                if (verdict == LeafVerdict.Retry)
                {
                    break;
                }

                if (verdict != LeafVerdict.Ok)
                {
                    return verdict == LeafVerdict.AccessFault ? AccessFaultCause(access) : PageFaultCause(access);
                }

                pa = (ppn << 12) | (va & ((1UL << span) - 1));
                superpage = level > 0;
                return ulong.MaxValue;
            }
        }

        return PageFaultCause(access);
    }

    private ulong WalkSv32(ulong va, Access access, out ulong pa, out bool superpage)
    {
        pa = 0;
        superpage = false;
        va &= 0xFFFF_FFFF;
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var table = (_satp & 0x3F_FFFF) << 12;
            for (var level = 1; level >= 0; level--)
            {
                var pteAddress = table + (((va >> (12 + (10 * level))) & 1023) * 4);
                var host = _memory.Frame(pteAddress >> 12, false);
                if (host == null)
                {
                    return AccessFaultCause(access);
                }

                var ptep = (uint*)(host + (pteAddress & 0xFFF));
                ulong pte = Volatile.Read(ref *ptep);
                if ((pte & PteV) == 0 || ((pte & PteR) == 0 && (pte & PteW) != 0))
                {
                    return PageFaultCause(access);
                }

                var ppn = pte >> 10;
                if ((pte & (PteR | PteX)) == 0)
                {
                    if (level == 0 || (pte & (PteA | PteD | PteU)) != 0)
                    {
                        return PageFaultCause(access);
                    }

                    table = ppn << 12;
                    continue;
                }

                if (level == 1 && (ppn & 1023) != 0)
                {
                    return PageFaultCause(access);
                }

                var verdict = CheckLeaf(pteAddress, pte, access);
                if (verdict == LeafVerdict.Retry)
                {
                    break;
                }

                if (verdict != LeafVerdict.Ok)
                {
                    return verdict == LeafVerdict.AccessFault ? AccessFaultCause(access) : PageFaultCause(access);
                }

                var span = 12 + (10 * level);
                pa = (ppn << 12) | (va & ((1UL << span) - 1));
                superpage = level > 0;
                return ulong.MaxValue;
            }
        }

        return PageFaultCause(access);
    }

    private enum LeafVerdict
    {
        Ok,
        PageFault,
        AccessFault,
        Retry,
    }

    /// <summary>Permission checks (U, SUM, MXR) and the A/D update for a leaf PTE of either format.</summary>
    private LeafVerdict CheckLeaf(ulong pteAddress, ulong pte, Access access)
    {
        var user = (pte & PteU) != 0;
        if (_privilege == Privilege.User ? !user : user && (access == Access.Execute || (_sstatus & SstatusSum) == 0))
        {
            return LeafVerdict.PageFault;
        }

        var allowed = access switch
        {
            Access.Read => (pte & PteR) != 0 || ((pte & PteX) != 0 && (_sstatus & SstatusMxr) != 0),
            Access.Write => (pte & PteW) != 0,
            _ => (pte & PteX) != 0,
        };
        if (!allowed)
        {
            return LeafVerdict.PageFault;
        }

        var wanted = pte | PteA | (access == Access.Write ? PteD : 0);
        if (wanted == pte)
        {
            return LeafVerdict.Ok;
        }

        // The update is a store to the page table: it needs a writable RAM frame (and marks it dirty).
        var host = _memory.Frame(pteAddress >> 12, true);
        if (host == null)
        {
            return LeafVerdict.AccessFault;
        }

        var offset = pteAddress & 0xFFF;
        bool swapped;
        if (_rv64)
        {
            swapped = Interlocked.CompareExchange(ref *(ulong*)(host + offset), wanted, pte) == pte;
        }
        else
        {
            swapped = Interlocked.CompareExchange(ref *(uint*)(host + offset), (uint)wanted, (uint)pte) == (uint)pte;
        }

        return swapped ? LeafVerdict.Ok : LeafVerdict.Retry;
    }
}
