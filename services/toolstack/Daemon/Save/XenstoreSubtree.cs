using Disagg.DomainImage;
using Disagg.Toolstack.Xenstore;
using Disagg.Xenbus;

namespace Disagg.Toolstack.Daemon.Save;

/// <summary>
/// A domain's xenstore subtree (/local/domain/ID) as an image carries it, and re-homed under a new domain id
/// on restore: every node with its value and permissions. What the toolstack writes afresh for the new domain
/// is left out on the way back: its name, domid and vm link, its console and store nodes (the new domain's
/// ports), and device/ (the devices are attached again from the saved config, frontends in Initialising, so
/// they reconnect to fresh backends), and control/shutdown (the request that suspended it).
/// </summary>
internal static class XenstoreSubtree
{
    private static readonly string[] Fresh = ["name", "domid", "vm", "console", "store", "device", "control/shutdown"];

    public static async Task<List<XenstoreNode>> CaptureAsync(XenstoreClient xs, int domid, CancellationToken cancel)
    {
        var nodes = new List<XenstoreNode>();
        var root = XenstoreDomains.DomainPath(domid);
        var pending = new Stack<string>();
        foreach (var child in await xs.DirectoryAsync(XenstoreClient.NoTransaction, root, cancel).ConfigureAwait(false))
        {
            pending.Push(child);
        }

        while (pending.Count > 0)
        {
            var rel = pending.Pop();
            var path = $"{root}/{rel}";
            var value = await xs.ReadAsync(XenstoreClient.NoTransaction, path, cancel).ConfigureAwait(false);
            if (value is null)
            {
                continue; // removed while we walked
            }

            var perms = await xs.GetPermsAsync(XenstoreClient.NoTransaction, path, cancel).ConfigureAwait(false);
            nodes.Add(new XenstoreNode(rel, value, perms));
            if (nodes.Count > ToolstackState.MaxNodes)
            {
                throw new ToolstackException($"domain {domid}: its xenstore subtree has more than {ToolstackState.MaxNodes} nodes");
            }

            foreach (var child in await xs.DirectoryAsync(XenstoreClient.NoTransaction, path, cancel).ConfigureAwait(false))
            {
                pending.Push($"{rel}/{child}");
            }
        }

        // Parents before children, so a restore creates each directory before what is below it.
        nodes.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return nodes;
    }

    /// <summary>The saved nodes to write for the new domain <paramref name="to"/>: paths under its directory, permissions naming it instead of <paramref name="from"/>.</summary>
    public static List<XenstoreEntry> Rehome(IReadOnlyList<XenstoreNode> nodes, int from, int to)
    {
        var root = XenstoreDomains.DomainPath(to);
        var entries = new List<XenstoreEntry>(nodes.Count);
        foreach (var n in nodes)
        {
            if (IsFresh(n.Path))
            {
                continue;
            }

            var perms = n.Perms.Count == 0 ? null : n.Perms.Select(p => ToolstackState.Remap(p, from, to)).ToArray();
            entries.Add(new XenstoreEntry($"{root}/{n.Path}", n.Value, perms));
        }

        return entries;
    }

    private static bool IsFresh(string path)
    {
        foreach (var f in Fresh)
        {
            if (path == f || (path.StartsWith(f, StringComparison.Ordinal) && path.Length > f.Length && path[f.Length] == '/'))
            {
                return true;
            }
        }

        return false;
    }
}
