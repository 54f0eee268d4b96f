namespace Disagg.Virtio.Memory;

/// <summary>
/// Guest RAM held in one array at a guest-physical base: the memory of tests and benchmarks, and of any
/// host that owns the RAM itself. Addresses outside [base, base + size) are not RAM.
/// </summary>
public sealed class RamGuestMemory : IGuestMemory
{
    private readonly byte[] _ram;

    public RamGuestMemory(ulong baseAddress, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        BaseAddress = baseAddress;
        _ram = new byte[size];
    }

    public ulong BaseAddress { get; }

    public ulong Size => (ulong)_ram.Length;

    /// <summary>The RAM itself, indexed from <see cref="BaseAddress"/> (what a guest driver writes).</summary>
    public Span<byte> Bytes => _ram;

    public bool IsRam(ulong address, ulong length) => TryOffset(address, length, out _);

    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (!TryOffset(address, (ulong)destination.Length, out var offset))
        {
            return false;
        }

        _ram.AsSpan(offset, destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (!TryOffset(address, (ulong)source.Length, out var offset))
        {
            return false;
        }

        source.CopyTo(_ram.AsSpan(offset, source.Length));
        return true;
    }

    /// <summary>The array offset of a range that lies wholly in RAM.</summary>
    public bool TryOffset(ulong address, ulong length, out int offset)
    {
        offset = 0;
        if (address < BaseAddress || !GuestMemoryAccess.TryEnd(address, length, out var end) || end > BaseAddress + Size)
        {
            return false;
        }

        offset = (int)(address - BaseAddress);
        return true;
    }
}
