namespace Disagg.Ring;

/// <summary>
/// Raised only by the convenience methods that cannot return a status (the Try* methods return
/// false and set <see cref="FrontRing{TReq,TRsp}.Fault"/>/<see cref="BackRing{TReq,TRsp}.Fault"/>).
/// Names the ring and what its peer did.
/// </summary>
public sealed class RingFaultException(string ring, RingFault fault, string detail)
    : Exception($"ring {ring}: {fault}: {detail}")
{
    public string Ring { get; } = ring;

    public RingFault Fault { get; } = fault;
}
