using Disagg.Kernel.Cpu.Decode;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// The A extension. AMOs and SC need natural alignment (misaligned: cause 6) and RAM (MMIO: access
/// fault, 7); they are host atomics on the guest page, so they stay atomic against other harts. LR/SC
/// keep the loaded value and SC compares-and-swaps against it (as QEMU does): a store by anyone that
/// changed the word fails the SC. Traps and SRET drop the reservation.
/// </summary>
public sealed unsafe partial class Hart
{
    private bool _reservationValid;
    private ulong _reservationAddress;
    private ulong _reservationValue;

    /// <summary>Returns false when a trap was taken.</summary>
    private bool ExecuteAtomic(DecodedOp* op)
    {
        var isDouble = op->Kind >= Op.LrD;
        var kind = isDouble ? op->Kind - (Op.LrD - Op.LrW) : op->Kind;
        var size = isDouble ? 8 : 4;
        var va = _x[op->Rs1] & _addressMask;
        var src = _x[op->Rs2];

        if (kind == Op.LrW)
        {
            var p = AtomicAddress(va, size, Access.Read);
            if (p == null)
            {
                return false;
            }

            var loaded = isDouble ? Volatile.Read(ref *(ulong*)p) : Volatile.Read(ref *(uint*)p);
            _reservationValid = true;
            _reservationAddress = va;
            _reservationValue = loaded;
            _x[op->Rd] = isDouble ? loaded : (ulong)(int)(uint)loaded;
            return true;
        }

        if (kind == Op.ScW)
        {
            if ((va & (ulong)(size - 1)) != 0)
            {
                RaiseException(CauseMisalignedStore, va);
                return false;
            }

            var reserved = _reservationValid && _reservationAddress == va;
            _reservationValid = false;
            if (!reserved)
            {
                _x[op->Rd] = 1;
                return true;
            }

            var p = AtomicAddress(va, size, Access.Write);
            if (p == null)
            {
                return false;
            }

            bool stored = isDouble
                ? Interlocked.CompareExchange(ref *(ulong*)p, src, _reservationValue) == _reservationValue
                : Interlocked.CompareExchange(ref *(uint*)p, (uint)src, (uint)_reservationValue) == (uint)_reservationValue;
            _x[op->Rd] = stored ? 0UL : 1UL;
            return true;
        }

        var q = AtomicAddress(va, size, Access.Write);
        if (q == null)
        {
            return false;
        }

        ulong old = isDouble ? Amo64((ulong*)q, kind, src) : (ulong)(int)Amo32((uint*)q, kind, (uint)src);
        _x[op->Rd] = old;
        return true;
    }

    /// <summary>Host pointer for an aligned atomic access, or null after raising the right fault.</summary>
    private byte* AtomicAddress(ulong va, int size, Access access)
    {
        if ((va & (ulong)(size - 1)) != 0)
        {
            RaiseException(access == Access.Read ? CauseMisalignedLoad : CauseMisalignedStore, va);
            return null;
        }

        if (!Translate(va, access, out var pa, out _))
        {
            return null;
        }

        var host = _memory.Frame(pa >> 12, access == Access.Write);
        if (host == null)
        {
            RaiseException(access == Access.Read ? CauseLoadAccess : CauseStoreAccess, va);
            return null;
        }

        if (access == Access.Write)
        {
            var code = _code.Find(pa >> 12);
            if (code != null)
            {
                Decode.DecodeCache.Invalidate(code, (uint)(pa & 0xFFF), size);
            }
        }

        return host + (pa & 0xFFF);
    }

    private static uint Amo32(uint* p, Op kind, uint v)
    {
        switch (kind)
        {
            case Op.AmoSwapW: return Interlocked.Exchange(ref *p, v);
            case Op.AmoAddW: return Interlocked.Add(ref *p, v) - v;
            case Op.AmoAndW: return Interlocked.And(ref *p, v);
            case Op.AmoOrW: return Interlocked.Or(ref *p, v);
            default:
                break;
        }

        while (true)
        {
            var old = Volatile.Read(ref *p);
            var result = kind switch
            {
                Op.AmoXorW => old ^ v,
                Op.AmoMinW => (int)old < (int)v ? old : v,
                Op.AmoMaxW => (int)old > (int)v ? old : v,
                Op.AmoMinuW => old < v ? old : v,
                _ => old > v ? old : v,
            };
            if (Interlocked.CompareExchange(ref *p, result, old) == old)
            {
                return old;
            }
        }
    }

    private static ulong Amo64(ulong* p, Op kind, ulong v)
    {
        switch (kind)
        {
            case Op.AmoSwapW: return Interlocked.Exchange(ref *p, v);
            case Op.AmoAddW: return Interlocked.Add(ref *p, v) - v;
            case Op.AmoAndW: return Interlocked.And(ref *p, v);
            case Op.AmoOrW: return Interlocked.Or(ref *p, v);
            default:
                break;
        }

        while (true)
        {
            var old = Volatile.Read(ref *p);
            var result = kind switch
            {
                Op.AmoXorW => old ^ v,
                Op.AmoMinW => (long)old < (long)v ? old : v,
                Op.AmoMaxW => (long)old > (long)v ? old : v,
                Op.AmoMinuW => old < v ? old : v,
                _ => old > v ? old : v,
            };
            if (Interlocked.CompareExchange(ref *p, result, old) == old)
            {
                return old;
            }
        }
    }
}
