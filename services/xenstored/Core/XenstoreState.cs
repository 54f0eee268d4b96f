using Disagg.Xenstored.Domains;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Store;
using Disagg.Xenstored.Watches;

namespace Disagg.Xenstored.Core;

/// <summary>Everything the store is: nodes, watches, introduced domains and the limits. Owned by the event loop thread.</summary>
public sealed class XenstoreState
{
    public XenstoreState(QuotaLimits quota)
    {
        Quota = quota;
        // Xen's layout: /tool exists from the start; /local/domain is the toolstack's to create.
        Tree.Create("/tool", [], [new XsPermission(XsAccess.None, 0)]);
    }

    public NodeTree Tree { get; } = new();

    public WatchTable Watches { get; } = new();

    public Dictionary<uint, GuestDomain> Domains { get; } = [];

    public QuotaLimits Quota { get; }
}
