namespace Disagg.Xenstored.Store;

/// <summary>
/// Per-domain limits for unprivileged domains, Xen's C xenstored defaults (spec §6). Each one stops
/// a guest from exhausting the store's memory or time at everyone else's expense.
/// </summary>
public sealed record QuotaLimits
{
    /// <summary>Nodes a domain may own (-E); beyond it creation fails with ENOSPC.</summary>
    public int EntriesPerDomain { get; init; } = 1000;

    /// <summary>Bytes of value, permissions and child names per node (-S); beyond it ENOSPC.</summary>
    public int NodeSize { get; init; } = 2048;

    /// <summary>Watches per domain (-W); beyond it E2BIG.</summary>
    public int WatchesPerDomain { get; init; } = 128;

    /// <summary>Open transactions per connection (-t); beyond it ENOSPC.</summary>
    public int TransactionsPerDomain { get; init; } = 10;

    /// <summary>
    /// Distinct nodes one transaction may access (Xen 4.17 quota_trans_nodes); once reached, further node
    /// requests in that transaction get ENOSPC (Xen refuses the one that would add a node), ending it still works.
    /// </summary>
    public int NodesPerTransaction { get; init; } = 1024;

    /// <summary>Replies a guest may leave unread before we stop reading its requests (flow control, not an error).</summary>
    public int OutstandingRequests { get; init; } = 20;
}
