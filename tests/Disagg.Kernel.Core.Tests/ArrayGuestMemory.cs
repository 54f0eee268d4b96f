using Disagg.Kernel.Core.Hypercalls;

namespace Disagg.Kernel.Core.Tests;

/// <summary>Guest memory as one byte array at a base address, with one unmapped hole, for hypercall tests.</summary>
internal sealed class ArrayGuestMemory(ulong baseAddress, int size, ulong holeStart = 0, ulong holeEnd = 0) : IGuestMemoryAccess
{
    public byte[] Bytes { get; } = new byte[size];

    public bool TryCopyFromGuest(ulong address, Span<byte> destination)
    {
        if (!Valid(address, destination.Length))
        {
            return false;
        }

        Bytes.AsSpan((int)(address - baseAddress), destination.Length).CopyTo(destination);
        return true;
    }

    public bool TryCopyToGuest(ulong address, ReadOnlySpan<byte> source)
    {
        if (!Valid(address, source.Length))
        {
            return false;
        }

        source.CopyTo(Bytes.AsSpan((int)(address - baseAddress)));
        return true;
    }

    private bool Valid(ulong address, int length) =>
        address >= baseAddress && address - baseAddress <= (ulong)(Bytes.Length - length)
        && (address + (ulong)length <= holeStart || address >= holeEnd);
}
