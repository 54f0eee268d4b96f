using Disagg.Abi.Events;

namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>
/// One bound port. Immutable: a rebind or close swaps the whole entry, so Send reads a port
/// with one volatile load and no lock.
/// </summary>
internal sealed record EventPort(EventChannelState State, int Vcpu)
{
    /// <summary>Unbound: the domain allowed to bind to it. Interdomain: the peer domain.</summary>
    public int RemoteDomainId { get; init; }

    /// <summary>Interdomain: the peer's table and port.</summary>
    public EventChannelTable? Remote { get; init; }

    public int RemotePort { get; init; }

    public int Virq { get; init; } = -1;
}
