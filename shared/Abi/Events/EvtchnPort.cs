using System.Runtime.InteropServices;

namespace Disagg.Abi.Events;

/// <summary>EVTCHNOP_close, EVTCHNOP_send and EVTCHNOP_unmask all take just a port.</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct EvtchnPort
{
    [FieldOffset(0)] public uint Port;
}
