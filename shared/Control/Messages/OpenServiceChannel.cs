namespace Disagg.Control.Messages;

/// <summary>
/// A service domain asks for its channel to the kernel. The reply (<see cref="ServiceChannelOpened"/>) carries
/// five file descriptors, in this order: the event pending bitmap (one shared page, a bit per port, set by
/// the kernel and taken by the service with an atomic exchange), the event doorbell (eventfd, rung when a
/// port becomes pending while the service may be asleep), the copy buffer (BufferPages pages of shared
/// memory: the service's own "frames" 0..BufferPages-1 for grant copy), the send ring (one page: ports the
/// service sends on, drained by the kernel without a request per event) and its kick doorbell. Once per
/// connection; a newer connection of the same service domain takes the channel over.
/// </summary>
public sealed record OpenServiceChannel(int BufferPages) : ControlMessage;

/// <summary>Reply to <see cref="OpenServiceChannel"/>; FdCount descriptors travel with it.</summary>
public sealed record ServiceChannelOpened(int DomainId, int MaxPorts, int BufferPages) : ControlMessage
{
    public const int FdCount = 5;
}
