using Disagg.Abi.Boot;
using Disagg.Abi.Events;

namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>A domain's event channel ports (2-level ABI: up to 4096) and where their events go.</summary>
public sealed class EventChannelTable
{
    public const int MaxPorts = SharedInfo.MaxPorts;

    private readonly EventPort?[] _ports;
    private readonly int[] _virqPorts = new int[(int)Virq.Count];

    internal EventChannelTable(int domainId, bool privileged, int vcpus, IEventDelivery delivery, int maxPorts)
    {
        DomainId = domainId;
        Privileged = privileged;
        Vcpus = vcpus;
        Delivery = delivery;
        _ports = new EventPort?[maxPorts];
        Array.Fill(_virqPorts, 0);
    }

    public int DomainId { get; }

    /// <summary>The control domain: may allocate ports on behalf of other domains and query any.</summary>
    public bool Privileged { get; }

    public int Vcpus { get; }

    public IEventDelivery Delivery { get; }

    public int PortCount => _ports.Length;

    internal bool Closed { get; set; }

    /// <summary>Ports bound to each VIRQ (0 = none; port 0 is never handed out, as in Xen).</summary>
    internal int[] VirqPorts => _virqPorts;

    internal EventPort? Get(int port) => (uint)port < (uint)_ports.Length ? Volatile.Read(ref _ports[port]) : null;

    internal void Set(int port, EventPort? entry) => Volatile.Write(ref _ports[port], entry);

    internal int FindFree()
    {
        for (var p = 1; p < _ports.Length; p++)
        {
            if (_ports[p] is null)
            {
                return p;
            }
        }

        return -1;
    }

    internal IEnumerable<int> BoundPorts()
    {
        for (var p = 1; p < _ports.Length; p++)
        {
            if (_ports[p] is not null)
            {
                yield return p;
            }
        }
    }
}
