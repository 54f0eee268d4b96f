using Disagg.Xenstored.Core;
using Disagg.Xenstored.Domains;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Transport.Ring;

/// <summary>
/// The ring connection of every introduced domain. A domain's connection exists from XS_INTRODUCE
/// (or from the journal, after a restart) whether or not its page is mapped yet, so its watches
/// have an owner; the page is attached as soon as the ring source has it. Loop thread only.
/// </summary>
public sealed class GuestConnections : IDomainConnections
{
    private readonly Dictionary<uint, RingConnection> _connections = [];
    private readonly StoreLoop _loop;
    private readonly QuotaLimits _quota;

    public GuestConnections(StoreLoop loop, QuotaLimits quota)
    {
        _loop = loop;
        _quota = quota;
    }

    public IGuestRingSource? Source { get; set; }

    public int Count => _connections.Count;

    public IEnumerable<RingConnection> All => _connections.Values;

    public XsConnection Attach(GuestDomain domain)
    {
        if (!_connections.TryGetValue(domain.DomainId, out var conn) || conn.IsClosed)
        {
            conn = new RingConnection(domain, _loop, _quota.OutstandingRequests);
            _connections[domain.DomainId] = conn;
        }

        conn.Domain = domain;
        if (Source?.TryTake(domain) is { } ring)
        {
            conn.Attach(ring);
        }

        return conn;
    }

    public bool TryPrepare(GuestDomain domain, out string reason)
    {
        reason = "";
        if (Source is null)
        {
            return true;
        }

        if (!Source.RebindsOnIntroduce || !_connections.TryGetValue(domain.DomainId, out var conn) || !conn.IsAttached)
        {
            return Source.TryPrepare(domain, out reason);
        }

        conn.DetachRing(); // its port must be free to bind again; served again once Attach takes the new ring
        if (Source.TryPrepare(domain, out reason))
        {
            return true;
        }

        // Refused: the domain keeps its earlier introduction, so put its earlier ring back.
        if (Source.TryTake(conn.Domain) is { } ring)
        {
            conn.Attach(ring);
        }

        return false;
    }

    /// <summary>The ring source has a page for <paramref name="domainId"/>: attach it if the domain is introduced.</summary>
    public void RingArrived(uint domainId, GuestDomain? domain)
    {
        if (domain is not null)
        {
            Attach(domain);
        }
    }

    public XsConnection? Find(uint domainId) => _connections.GetValueOrDefault(domainId);

    public void Detach(uint domainId)
    {
        if (_connections.Remove(domainId, out var conn))
        {
            conn.Transactions.Clear();
            conn.Close();
        }
    }
}
