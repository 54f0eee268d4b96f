using System.Runtime.InteropServices;

namespace Disagg.Abi.Hypercalls;

/// <summary>struct vcpu_runstate_info (vcpu.h, 48 bytes): the current state, when it was entered, ns spent per state.</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
public struct VcpuRunstateInfo
{
    public const int Running = 0;
    public const int Runnable = 1;
    public const int Blocked = 2;
    public const int Offline = 3;

    [FieldOffset(0)] public int State;
    [FieldOffset(8)] public ulong StateEntryTime;
    [FieldOffset(16)] public ulong RunningTime;
    [FieldOffset(24)] public ulong RunnableTime;
    [FieldOffset(32)] public ulong BlockedTime;
    [FieldOffset(40)] public ulong OfflineTime;
}
