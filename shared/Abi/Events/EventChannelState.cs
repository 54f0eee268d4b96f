namespace Disagg.Abi.Events;

/// <summary>What a port is bound to, as EVTCHNOP_status reports it (EVTCHNSTAT_*).</summary>
public enum EventChannelState : uint
{
    Closed = 0,
    Unbound = 1,
    Interdomain = 2,
    Pirq = 3,
    Virq = 4,
    Ipi = 5,
}
