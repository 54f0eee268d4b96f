namespace Disagg.Control.Messages;

/// <summary>
/// The host daemon to a service's fault socket (only a service started with DISAGG_FAULT_SOCKET listens): arm
/// <paramref name="Count"/> faults of <paramref name="Kind"/>; each fires on the next matching operation.
/// A count of 0 disarms every pending fault of that kind. DelayMs is how long a <see cref="ChannelFaultKind.RingDelay"/> holds a notification back.
/// </summary>
public sealed record InjectChannelFault(ChannelFaultKind Kind, int Count, int DelayMs) : ControlMessage;

/// <summary>The reply to <see cref="InjectChannelFault"/>: how many of that kind are armed now, and how many fired so far.</summary>
public sealed record ChannelFaultArmed(ChannelFaultKind Kind, int Armed, long Fired) : ControlMessage;
