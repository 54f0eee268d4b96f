namespace Disagg.Control.Messages;

/// <summary>
/// GNTTABOP_map_grant_ref for a service: map page Ref that Domain granted to the service. The reply
/// (<see cref="GrantMapped"/>) carries one file descriptor for exactly that page (read-only when ReadOnly),
/// never more of the guest's memory. The guest keeps seeing the page at the same guest address.
/// </summary>
public sealed record MapGrantRef(int Domain, uint Ref, bool ReadOnly) : ControlMessage;

/// <summary>Reply to <see cref="MapGrantRef"/>: Handle unmaps it; Frame is the guest frame granted.</summary>
public sealed record GrantMapped(long Handle, ulong Frame) : ControlMessage
{
    public const int FdCount = 1;
}

/// <summary>GNTTABOP_unmap_grant_ref: releases the grant (the service also unmaps its own mapping).</summary>
public sealed record UnmapGrantRef(long Handle) : ControlMessage;

/// <summary>
/// One GNTTABOP_copy operation as a service asks it: each side is either a grant reference of a domain
/// (IsGrant, Domain, RefOrFrame) or a page of the service's copy buffer (RefOrFrame = buffer page).
/// </summary>
public sealed record GrantCopyOp(
    bool SourceIsGrant, int SourceDomain, ulong SourceRefOrFrame, ushort SourceOffset,
    bool DestIsGrant, int DestDomain, ulong DestRefOrFrame, ushort DestOffset,
    ushort Length);

/// <summary>A batch of grant copies, performed in order; each gets its own status.</summary>
public sealed record GrantCopyBatch(GrantCopyOp[] Ops) : ControlMessage;

/// <summary>Xen GNTST_* status per operation of a <see cref="GrantCopyBatch"/> (0 = okay).</summary>
public sealed record GrantCopyResult(short[] Status) : ControlMessage;
