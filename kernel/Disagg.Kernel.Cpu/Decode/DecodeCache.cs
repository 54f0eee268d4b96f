using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Disagg.Kernel.Cpu.Decode;

/// <summary>
/// Decoded instructions per guest-physical frame: 2048 slots (one per halfword) plus sentinel
/// <see cref="Op.BlockEnd"/> slots, so the run loop falls off the page into a block end instead of
/// testing a bound per instruction. Slots start <see cref="Op.Undecoded"/> and are decoded on first
/// execution. Pages live on the pinned object heap, so ops are reached by pointer and the GC never
/// moves them; flushed pages are kept for reuse.
/// <para>
/// After the ops and their sentinels each page carries its translation entries (<see cref="Entries"/>):
/// one word per slot, an execution count below the translator's hot threshold, <see cref="Refused"/>, or
/// the address of the block translated from that slot; plus one word saying whether any entry was ever
/// set past counting. A store that invalidates slots of a page drops all of its translations.
/// </para>
/// </summary>
internal sealed unsafe class DecodeCache
{
    public const int SlotsPerPage = 2048;

    /// <summary>
    /// A guest that jumps through all of its RAM would otherwise make us hold 8x its RAM in decoded
    /// pages; at this many pages the whole cache is dropped and rebuilt from what runs next.
    /// </summary>
    public const int MaxPages = 4096;

    /// <summary>An entry for a slot whose block the translator refused (its first op is not translatable).</summary>
    public const nint Refused = 0xFFFF;

    private const int EntryWords = SlotsPerPage + 1;

    /// <summary>Ops, two sentinels, then the entry words (16-byte ops hold two words each).</summary>
    private const int PageLength = SlotsPerPage + 2 + ((EntryWords + 1) / 2);

    private readonly Dictionary<ulong, DecodedOp[]> _pages = [];
    private readonly Stack<DecodedOp[]> _free = new();

    public int Count => _pages.Count;

    public long PagesDecoded { get; private set; }

    /// <summary>The decoded page of a frame, or null when the frame holds no decoded code.</summary>
    public DecodedOp* Find(ulong frame) => _pages.TryGetValue(frame, out var page) ? Pointer(page) : null;

    public DecodedOp* GetOrCreate(ulong frame, out bool created)
    {
        if (_pages.TryGetValue(frame, out var page))
        {
            created = false;
            return Pointer(page);
        }

        if (!_free.TryPop(out page))
        {
            page = GC.AllocateArray<DecodedOp>(PageLength, pinned: true);
            page[SlotsPerPage].Kind = Op.BlockEnd;
            page[SlotsPerPage + 1].Kind = Op.BlockEnd;
        }
        else
        {
            Array.Clear(page, 0, SlotsPerPage);
            Array.Clear(page, SlotsPerPage + 2, PageLength - SlotsPerPage - 2);
        }

        _pages.Add(frame, page);
        PagesDecoded++;
        created = true;
        return Pointer(page);
    }

    public void Flush()
    {
        foreach (var page in _pages.Values)
        {
            _free.Push(page);
        }

        _pages.Clear();
    }

    /// <summary>Marks the slots that a store to [offset, offset+size) may have changed as undecoded.</summary>
    public static void Invalidate(DecodedOp* page, uint offset, int size)
    {
        // A 4-byte instruction starting 2 bytes earlier also covers the first byte written, and a fused
        // pair (two 4-byte instructions) starting up to 7 bytes earlier does too.
        var first = offset >= 8 ? (offset - 8) >> 1 : 0;
        var last = Math.Min((offset + (uint)size - 1) >> 1, SlotsPerPage - 1);
        for (var i = first; i <= last; i++)
        {
            page[i].Kind = Op.Undecoded;
        }

        DropTranslations(page);
    }

    /// <summary>The translation entry words of a decoded page, one per slot.</summary>
    public static nint* Entries(DecodedOp* page) => (nint*)(page + SlotsPerPage + 2);

    /// <summary>Records that an entry of the page now holds more than a count, so a write must clear them.</summary>
    public static void MarkTranslated(DecodedOp* page) => Entries(page)[SlotsPerPage] = 1;

    /// <summary>Forgets every translation and count of a page (its code changed).</summary>
    public static void DropTranslations(DecodedOp* page)
    {
        var entries = Entries(page);
        if (entries[SlotsPerPage] != 0)
        {
            new Span<nint>(entries, EntryWords).Clear();
        }
    }

    /// <summary>Forgets the translations of every page (the code memory they point into is being reused).</summary>
    public void DropAllTranslations()
    {
        foreach (var page in _pages.Values)
        {
            DropTranslations(Pointer(page));
        }
    }

    private static DecodedOp* Pointer(DecodedOp[] page) =>
        (DecodedOp*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(page));
}
