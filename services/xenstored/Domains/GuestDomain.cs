namespace Disagg.Xenstored.Domains;

/// <summary>
/// A domain the toolstack introduced (XS_INTRODUCE): where its ring page is (guest frame) and which
/// event channel port signals it, and, after XS_SET_TARGET, the domain it serves as device model for.
/// </summary>
public sealed record GuestDomain(uint DomainId, ulong RingFrame, uint EventChannel)
{
    public uint? Target { get; set; }
}
