using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// The slow paths behind the TLB: walk, ask the host for the frame, install the entry, or go to MMIO.
/// A write entry is installed only after the host was asked with forWrite (so dirty logging saw the
/// page) and never for a frame holding decoded code: stores to code pages always come here and
/// invalidate the decoded slots they touch. Misaligned accesses are emulated byte by byte, after both
/// pages are known to translate, so a fault never leaves half a store behind.
/// </summary>
public sealed unsafe partial class Hart
{
    private long _statTlbFills;
    private long _statDecodes;
    private long _statTlbFlushes;

    private TlbEntry* EntryFor(ulong va, ulong frame, ulong addend, bool fetch = false)
    {
        var e = _tlb + (fetch ? Tlb.FetchOffset : 0) + ((va >> 12) & Tlb.IndexMask);
        var tag = va & Tlb.Mask1;
        if (e->Frame != frame || e->Addend != addend || (e->ReadTag != tag && e->WriteTag != tag && e->ExecTag != tag))
        {
            e->ReadTag = Tlb.Invalid;
            e->WriteTag = Tlb.Invalid;
            e->ExecTag = Tlb.Invalid;
            e->Code = null;
            e->Frame = frame;
            e->Addend = addend;
        }

        _statTlbFills++;
        return e;
    }

    private bool FillFetch(ulong pc)
    {
        if (!Translate(pc, Access.Execute, out var pa, out var superpage))
        {
            return false;
        }

        var frame = pa >> 12;
        var host = _memory.Frame(frame, false);
        if (host == null)
        {
            RaiseException(CauseFetchAccess, pc);
            return false;
        }

        if (_code.Count >= DecodeCache.MaxPages)
        {
            FlushTranslations();
        }

        var code = _code.GetOrCreate(frame, out var created);
        if (created)
        {
            RevokeWriteEntries(frame);
        }

        _tlbHasSuperpages |= superpage;
        var pageVa = pc & Tlb.Mask1;
        var e = EntryFor(pc, frame, (ulong)host - pageVa, fetch: true);
        e->ExecTag = pageVa;
        e->Code = code;
        return true;
    }

    /// <summary>A frame just became code: its stores must take the slow path from now on, in both TLBs.</summary>
    private void RevokeWriteEntries(ulong frame)
    {
        var p = _tlbUser;
        for (var i = 0; i < 2 * Tlb.Entries; i++)
        {
            if (p[i].Frame == frame)
            {
                p[i].WriteTag = Tlb.Invalid;
            }
        }
    }

    /// <summary>Fetches and decodes a 32-bit instruction whose halves lie in two pages, into the scratch op.</summary>
    private bool FetchAcrossPages(ulong pc)
    {
        if (!FetchHalf(pc, pc, out var low) || !FetchHalf(pc, (pc + 2) & _addressMask, out var high))
        {
            return false;
        }

        _scratch[0] = Decoder.Decode(low | ((uint)high << 16), _rv64);
        return true;
    }

    private bool FetchHalf(ulong pc, ulong va, out ushort half)
    {
        half = 0;
        if (!Translate(va, Access.Execute, out var pa, out _))
        {
            return false;
        }

        var host = _memory.Frame(pa >> 12, false);
        if (host == null)
        {
            _pc = pc;
            RaiseException(CauseFetchAccess, va);
            return false;
        }

        half = *(ushort*)(host + (pa & 0xFFF));
        return true;
    }

    private bool LoadSlow(ulong va, int size, out ulong value)
    {
        value = 0;
        if ((va & (ulong)(size - 1)) != 0)
        {
            return LoadMisaligned(va, size, out value);
        }

        if (!Translate(va, Access.Read, out var pa, out var superpage))
        {
            return false;
        }

        var frame = pa >> 12;
        var host = _memory.Frame(frame, false);
        if (host == null)
        {
            return MmioDone(_memory.ReadMmio(pa, size, out value), new MmioAccess(pa, size, false, 0), va);
        }

        _tlbHasSuperpages |= superpage;
        var pageVa = va & Tlb.Mask1;
        var e = EntryFor(va, frame, (ulong)host - pageVa);
        e->ReadTag = pageVa;
        value = ReadSized(host + (pa & 0xFFF), size);
        return true;
    }

    private bool StoreSlow(ulong va, int size, ulong value)
    {
        if ((va & (ulong)(size - 1)) != 0)
        {
            return StoreMisaligned(va, size, value);
        }

        if (!Translate(va, Access.Write, out var pa, out var superpage))
        {
            return false;
        }

        var frame = pa >> 12;
        var host = _memory.Frame(frame, true);
        if (host == null)
        {
            return MmioDone(_memory.WriteMmio(pa, size, value), new MmioAccess(pa, size, true, value), va);
        }

        WriteSized(host + (pa & 0xFFF), size, value);
        var code = _code.Find(frame);
        if (code != null)
        {
            DecodeCache.Invalidate(code, (uint)(pa & 0xFFF), size);
            return true;
        }

        _tlbHasSuperpages |= superpage;
        var pageVa = va & Tlb.Mask1;
        var e = EntryFor(va, frame, (ulong)host - pageVa);
        e->WriteTag = pageVa;
        return true;
    }

    private bool LoadMisaligned(ulong va, int size, out ulong value)
    {
        value = 0;
        if (!DataAddress(va, Access.Read, out var first) || !DataAddress(SecondPart(va, size), Access.Read, out var second))
        {
            return false;
        }

        for (var i = 0; i < size; i++)
        {
            var a = (va + (ulong)i) & _addressMask;
            var host = ((a ^ va) & Tlb.Mask1) == 0 ? first : second;
            value |= (ulong)host[a & 0xFFF] << (8 * i);
        }

        return true;
    }

    private bool StoreMisaligned(ulong va, int size, ulong value)
    {
        if (!DataAddress(va, Access.Write, out var first) || !DataAddress(SecondPart(va, size), Access.Write, out var second))
        {
            return false;
        }

        for (var i = 0; i < size; i++)
        {
            var a = (va + (ulong)i) & _addressMask;
            var host = ((a ^ va) & Tlb.Mask1) == 0 ? first : second;
            host[a & 0xFFF] = (byte)(value >> (8 * i));
        }

        return true;
    }

    /// <summary>
    /// Where a misaligned access's second page starts (or <paramref name="va"/> when it stays in one page):
    /// a fault there reports the first byte that faulted, as a byte-wise access would.
    /// </summary>
    private ulong SecondPart(ulong va, int size)
    {
        var last = (va + (ulong)size - 1) & _addressMask;
        return ((last ^ va) & ~0xFFFUL) == 0 ? va : last & ~0xFFFUL;
    }

    /// <summary>
    /// The host page of a data address, for the byte-wise paths: MMIO is not split into bytes, so a
    /// misaligned MMIO access is an access fault (as on hardware without misaligned MMIO support).
    /// </summary>
    private bool DataAddress(ulong va, Access access, out byte* hostPage)
    {
        hostPage = null;
        if (!Translate(va, access, out var pa, out _))
        {
            return false;
        }

        var host = _memory.Frame(pa >> 12, access == Access.Write);
        if (host == null)
        {
            RaiseException(access == Access.Write ? CauseStoreAccess : CauseLoadAccess, va);
            return false;
        }

        hostPage = host;
        if (access == Access.Write)
        {
            var code = _code.Find(pa >> 12);
            if (code != null)
            {
                DecodeCache.Invalidate(code, 0, 0x1000);
            }
        }

        return true;
    }

    internal static ulong ReadSized(byte* p, int size) => size switch
    {
        1 => *p,
        2 => *(ushort*)p,
        4 => *(uint*)p,
        _ => *(ulong*)p,
    };

    internal static void WriteSized(byte* p, int size, ulong value)
    {
        switch (size)
        {
            case 1: *p = (byte)value; break;
            case 2: *(ushort*)p = (ushort)value; break;
            case 4: *(uint*)p = (uint)value; break;
            default: *(ulong*)p = value; break;
        }
    }
}
