using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Protocol;

namespace Disagg.Xenstored.Store;

/// <summary>
/// Xen's node semantics over a view (live tree or transaction): permission checks, implicit parent
/// creation with inherited permissions, quotas for unprivileged domains, and the watch triggers
/// each change causes. Results are Xen errors, never exceptions: every input here is a peer's.
/// </summary>
public static class StoreOperations
{
    /// <summary>Finds a node the caller may access with <paramref name="need"/>; a missing node is EACCES if the caller could not have seen its parent.</summary>
    public static XsError Lookup(IStoreView view, XsCaller caller, string path, XsAccess need, out Node? node)
    {
        node = view.Get(path);
        if (node is null)
        {
            return ErrorForMissing(view, caller, path);
        }

        return (caller.AccessTo(node) & need) == need ? XsError.None : XsError.EACCES;
    }

    public static XsError Write(IStoreView view, XsCaller caller, QuotaLimits quota, string path, byte[] value, List<WatchTrigger> triggers)
    {
        var node = view.Get(path);
        if (node is not null)
        {
            if ((caller.AccessTo(node) & XsAccess.Write) == 0)
            {
                return XsError.EACCES;
            }

            if (!caller.Privileged && node.AccountedSize - node.Value.Length + value.Length > quota.NodeSize)
            {
                return XsError.ENOSPC;
            }

            view.SetValue(path, value);
            triggers.Add(new WatchTrigger(path, node.Permissions, Removal: false));
            return XsError.None;
        }

        return CreateWithParents(view, caller, quota, path, value, triggers);
    }

    public static XsError Mkdir(IStoreView view, XsCaller caller, QuotaLimits quota, string path, List<WatchTrigger> triggers)
    {
        var node = view.Get(path);
        if (node is not null)
        {
            return (caller.AccessTo(node) & XsAccess.Write) != 0 ? XsError.None : XsError.EACCES;
        }

        return CreateWithParents(view, caller, quota, path, [], triggers);
    }

    public static XsError Remove(IStoreView view, XsCaller caller, string path, List<WatchTrigger> triggers)
    {
        if (path == XsPath.Root)
        {
            return XsError.EINVAL;
        }

        var node = view.Get(path);
        if (node is null)
        {
            // Xen: removing what is already gone succeeds, as long as its parent exists.
            var error = ErrorForMissing(view, caller, path);
            return error == XsError.ENOENT && view.Get(XsPath.Parent(path)) is not null ? XsError.None : error;
        }

        if ((caller.AccessTo(node) & XsAccess.Write) == 0)
        {
            return XsError.EACCES;
        }

        triggers.Add(new WatchTrigger(path, node.Permissions, Removal: true));
        view.Remove(path);
        return XsError.None;
    }

    public static XsError SetPermissions(IStoreView view, XsCaller caller, string path, XsPermission[] permissions, List<WatchTrigger> triggers)
    {
        var error = Lookup(view, caller, path, XsAccess.Write, out var node);
        if (error != XsError.None)
        {
            return error;
        }

        if (!caller.Owns(node!))
        {
            return XsError.EACCES;
        }

        // An unprivileged owner may share its node but not give it away (quota would follow).
        if (!caller.Privileged && permissions[0].DomainId != node!.Owner)
        {
            return XsError.EPERM;
        }

        view.SetPermissions(path, permissions);
        triggers.Add(new WatchTrigger(path, permissions, Removal: false));
        return XsError.None;
    }

    private static XsError CreateWithParents(IStoreView view, XsCaller caller, QuotaLimits quota, string path, byte[] value, List<WatchTrigger> triggers)
    {
        var ancestorPath = XsPath.Parent(path);
        var missing = 1;
        Node? ancestor;
        while ((ancestor = view.Get(ancestorPath)) is null)
        {
            ancestorPath = XsPath.Parent(ancestorPath);
            missing++;
        }

        if ((caller.AccessTo(ancestor) & XsAccess.Write) == 0)
        {
            return XsError.EACCES;
        }

        var permissions = ancestor.Permissions;
        if (!caller.Privileged && permissions[0].DomainId != caller.DomainId)
        {
            // A guest's new nodes are its own (and count against its quota), whoever owns the parent.
            permissions = [.. permissions];
            permissions[0] = permissions[0] with { DomainId = caller.DomainId };
        }

        if (!caller.Privileged)
        {
            if (value.Length + (permissions.Length * 8) > quota.NodeSize)
            {
                return XsError.ENOSPC;
            }

            if (view.EntriesOwnedBy(permissions[0].DomainId) + missing > quota.EntriesPerDomain)
            {
                return XsError.ENOSPC;
            }
        }

        CreateChain(view, path, missing, value, permissions);
        triggers.Add(new WatchTrigger(path, permissions, Removal: false));
        return XsError.None;
    }

    private static void CreateChain(IStoreView view, string path, int missing, byte[] value, XsPermission[] permissions)
    {
        if (missing > 1)
        {
            CreateChain(view, XsPath.Parent(path), missing - 1, [], permissions);
        }

        view.Create(path, value, permissions);
    }

    private static XsError ErrorForMissing(IStoreView view, XsCaller caller, string path)
    {
        if (XsPath.IsSpecial(path))
        {
            return XsError.ENOENT;
        }

        var ancestorPath = path;
        Node? ancestor;
        do
        {
            ancestorPath = XsPath.Parent(ancestorPath);
            ancestor = view.Get(ancestorPath);
        }
        while (ancestor is null);

        return (caller.AccessTo(ancestor) & XsAccess.Read) != 0 ? XsError.ENOENT : XsError.EACCES;
    }
}
