using System.Runtime.InteropServices;

namespace Disagg.Bench.Ring;

/// <summary>The 64-byte request of the benchmark (a cache line, as a netif or blkif request batch moves).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct Message
{
    [FieldOffset(0)] public ulong Seq;
}

/// <summary>A minimal response: frees the slot, carries the sequence number back.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct Ack
{
    [FieldOffset(0)] public ulong Seq;
}
