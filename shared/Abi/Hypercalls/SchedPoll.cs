using System.Runtime.InteropServices;

namespace Disagg.Abi.Hypercalls;

/// <summary>struct sched_poll (sched.h): block until one of the ports is pending or the timeout passes.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct SchedPoll
{
    /// <summary>Guest address of an array of u32 ports.</summary>
    [FieldOffset(0)] public ulong Ports;
    [FieldOffset(8)] public uint NrPorts;
    /// <summary>Absolute system time in ns; 0 means no timeout.</summary>
    [FieldOffset(16)] public ulong Timeout;
}
