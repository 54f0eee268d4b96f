using Disagg.Virtio.Memory;

namespace Disagg.Virtio.Tests.Driver;

/// <summary>Guest RAM that remembers every range the device read or wrote (successful or not).</summary>
internal sealed class RecordingMemory(IGuestMemory inner) : IGuestMemory
{
    public List<(ulong Address, ulong Length)> Reads { get; } = [];

    public List<(ulong Address, ulong Length)> Writes { get; } = [];

    public bool Recording { get; set; }

    public bool IsRam(ulong address, ulong length) => inner.IsRam(address, length);

    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (Recording)
        {
            Reads.Add((address, (ulong)destination.Length));
        }

        return inner.TryRead(address, destination);
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (Recording)
        {
            Writes.Add((address, (ulong)source.Length));
        }

        return inner.TryWrite(address, source);
    }
}
