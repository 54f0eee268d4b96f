using System.Numerics;
using System.Runtime.CompilerServices;

namespace Disagg.Ring;

/// <summary>
/// One byte ring of a Xen shared page: xs_wire.h's xenstore_domain_interface (req and rsp, 1 KiB each) and
/// console.h's xencons_interface (in 1 KiB, out 2 KiB). A power-of-two array of bytes with free-running u32
/// cons and prod indices masked by the size (MASK_XENSTORE_IDX, MASK_XENCONS_IDX); a message may wrap.
/// The peer can write the indices at any time: both are re-read on every call, and a pair further apart
/// than the size (prod - cons &gt; size, which includes prod behind cons) is a broken ring — the call
/// returns false and touches nothing, so a hostile index can never make us read or write out of bounds.
/// A ref struct over the mapped page: make one per use, it holds no state of its own.
/// </summary>
public readonly ref struct ByteRing
{
    private readonly Span<byte> _bytes;
    private readonly ref uint _cons;
    private readonly ref uint _prod;
    private readonly uint _size;

    /// <param name="page">The shared page (or the part of it holding the ring and its indices).</param>
    /// <param name="bytesOffset">Where the ring's bytes start in <paramref name="page"/>.</param>
    /// <param name="size">The ring's size in bytes: a power of two.</param>
    /// <param name="consOffset">Where its u32 consumer index is (4-byte aligned).</param>
    /// <param name="prodOffset">Where its u32 producer index is (4-byte aligned).</param>
    public ByteRing(Span<byte> page, int bytesOffset, int size, int consOffset, int prodOffset)
    {
        if (size <= 0 || !BitOperations.IsPow2(size))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "a byte ring's size is a power of two");
        }

        _bytes = page.Slice(bytesOffset, size);
        _cons = ref Index(page, consOffset);
        _prod = ref Index(page, prodOffset);
        _size = (uint)size;
    }

    public int Size => (int)_size;

    /// <summary>Bytes the producer has published and the consumer not yet taken; false if the indices are broken.</summary>
    public bool TryGetUnconsumed(out int count)
    {
        var ok = TryLoadIndices(out var cons, out var prod);
        count = ok ? (int)(prod - cons) : 0;
        return ok;
    }

    /// <summary>The consumer's side: true when there is nothing to take (or the ring is broken, which the next read reports).</summary>
    public bool IsEmpty => Volatile.Read(ref _prod) == Volatile.Read(ref _cons);

    /// <summary>
    /// The consumer's side: copies up to destination.Length published bytes out and advances cons past them.
    /// False (nothing read, nothing moved) when the indices are broken.
    /// </summary>
    public bool TryRead(Span<byte> destination, out int read)
    {
        read = 0;
        if (!TryLoadIndices(out var cons, out var prod))
        {
            return false;
        }

        var available = prod - cons;
        // The producer wrote the bytes before it moved prod: read them only after reading prod (xen_rmb).
        Interlocked.MemoryBarrier();
        read = (int)Math.Min(available, (uint)destination.Length);
        var start = (int)(cons & (_size - 1));
        var first = Math.Min(read, Size - start);
        _bytes.Slice(start, first).CopyTo(destination);
        _bytes[..(read - first)].CopyTo(destination[first..read]);
        // The bytes are copied before the producer may reuse their room (xen_mb).
        Interlocked.MemoryBarrier();
        Volatile.Write(ref _cons, cons + (uint)read);
        return true;
    }

    /// <summary>
    /// The producer's side: copies as much of <paramref name="source"/> as there is room for and publishes it.
    /// False (nothing written, nothing moved) when the indices are broken; a full ring writes 0 bytes.
    /// </summary>
    public bool TryWrite(ReadOnlySpan<byte> source, out int written)
    {
        written = 0;
        if (!TryLoadIndices(out var cons, out var prod))
        {
            return false;
        }

        var used = prod - cons;
        // The consumer's cons is read before we overwrite the room it freed (xen_mb).
        Interlocked.MemoryBarrier();
        written = (int)Math.Min(_size - used, (uint)source.Length);
        var start = (int)(prod & (_size - 1));
        var first = Math.Min(written, Size - start);
        source[..first].CopyTo(_bytes[start..]);
        source[first..written].CopyTo(_bytes);
        // The bytes must be visible before the consumer sees prod move (xen_wmb).
        Interlocked.MemoryBarrier();
        Volatile.Write(ref _prod, prod + (uint)written);
        return true;
    }

    /// <summary>The consumer's side: drops everything published (after a broken ring was reported: cons = prod).</summary>
    public void DiscardAll() => Volatile.Write(ref _cons, Volatile.Read(ref _prod));

    /// <summary>Both indices, read once each; false when they are further apart than the ring (broken).</summary>
    private bool TryLoadIndices(out uint cons, out uint prod)
    {
        cons = Volatile.Read(ref _cons);
        prod = Volatile.Read(ref _prod);
        return prod - cons <= _size;
    }

    private static ref uint Index(Span<byte> page, int offset)
    {
        if ((offset & 3) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "a ring index is a 4-byte aligned u32");
        }

        return ref Unsafe.As<byte, uint>(ref page.Slice(offset, sizeof(uint))[0]);
    }
}
