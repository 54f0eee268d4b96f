using System.Runtime.InteropServices;

namespace Disagg.Ring.Peer;

/// <summary>A 64-byte test request: a sequence number and payload the backend checksums.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct TestRequest
{
    public const ulong EndOfTest = ulong.MaxValue;

    [FieldOffset(0)] public ulong Seq;
    [FieldOffset(8)] public ulong Payload;
}

/// <summary>A 16-byte response: the request's sequence number and a value derived from its payload.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct TestResponse
{
    [FieldOffset(0)] public ulong Seq;
    [FieldOffset(8)] public ulong Check;

    public static ulong CheckOf(ulong seq, ulong payload) => (seq * 0x9E3779B97F4A7C15UL) ^ payload;
}
