namespace Disagg.Control.Messages;

/// <summary>
/// A service domain asks for its channel to the kernel. The reply (<see cref="ServiceChannelOpened"/>) carries
/// five file descriptors, in this order: the event pending bitmap (one shared page, a bit per port, set by
/// the kernel and taken by the service with an atomic exchange), the event doorbell (eventfd, rung when a
/// port becomes pending while the service may be asleep), the copy buffer (BufferPages pages of shared
/// memory: the service's own "frames" 0..BufferPages-1 for grant copy), the send ring (one page: ports the
/// service sends on, drained by the kernel without a request per event) and its kick doorbell; with
/// GrantFrames &gt; 0 a sixth: the service's own grant table (GrantFrames pages of grant_entry_v1 that the
/// service writes, as a guest does), which makes it a native frontend other services can take grants from.
/// Once per connection; a newer connection of the same service domain takes the channel over.
/// </summary>
public sealed record OpenServiceChannel(int BufferPages, int GrantFrames = 0) : ControlMessage;

/// <summary>Reply to <see cref="OpenServiceChannel"/>; <see cref="FdCount"/> descriptors travel with it.</summary>
public sealed record ServiceChannelOpened(int DomainId, int MaxPorts, int BufferPages, int GrantFrames = 0) : ControlMessage
{
    public int FdCount => GrantFrames > 0 ? 6 : 5;
}

/// <summary>
/// A native frontend asks for a page it can grant for mapping (a ring): the reply (<see cref="SharedPageAllocated"/>)
/// carries one descriptor, a page of its own that is frame Frame of the service's memory. Copy buffer pages
/// can be granted for copies only: a mapping hands a whole file to the mapper, so a mappable page is a file of its own.
/// </summary>
public sealed record AllocSharedPage : ControlMessage;

/// <summary>Reply to <see cref="AllocSharedPage"/>; one descriptor travels with it.</summary>
public sealed record SharedPageAllocated(ulong Frame) : ControlMessage
{
    public const int FdCount = 1;
}
