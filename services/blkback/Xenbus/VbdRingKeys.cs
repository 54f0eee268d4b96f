namespace Disagg.Blkback.Xenbus;

/// <summary>
/// What a frontend wrote to connect (blkif.h): its ring's grant references (one, or 2^ring-page-order) and its
/// event channel. Equal keys are the same connection, so a repeated watch event changes nothing.
/// </summary>
internal sealed class VbdRingKeys(uint[] refs, int port) : IEquatable<VbdRingKeys>
{
    public uint[] Refs { get; } = refs;

    public int Port { get; } = port;

    public bool Equals(VbdRingKeys? other) => other is not null && Port == other.Port && Refs.AsSpan().SequenceEqual(other.Refs);

    public override bool Equals(object? obj) => Equals(obj as VbdRingKeys);

    public override int GetHashCode() => HashCode.Combine(Port, Refs.Length, Refs.Length > 0 ? Refs[0] : 0);
}
