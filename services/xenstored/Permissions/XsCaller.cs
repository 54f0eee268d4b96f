using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Permissions;

/// <summary>
/// Who is asking: a domain, whether it bypasses permissions (dom0 and the socket's host clients,
/// like Xen's privileged connections), and the domain it was made a device model for (SET_TARGET),
/// whose nodes it may access as if it were that domain.
/// </summary>
public readonly record struct XsCaller(uint DomainId, bool Privileged, uint? Target = null)
{
    public static XsCaller Dom0 => new(0, true);

    /// <summary>What this caller may do to <paramref name="node"/>: the owner everything, listed domains their entry, others entry 0.</summary>
    public XsAccess AccessTo(Node node) => AccessTo(node.Permissions);

    public XsAccess AccessTo(XsPermission[] perms)
    {
        if (Privileged)
        {
            return XsAccess.Both;
        }

        if (IsMe(perms[0].DomainId))
        {
            return XsAccess.Both;
        }

        for (var i = 1; i < perms.Length; i++)
        {
            if (IsMe(perms[i].DomainId))
            {
                return perms[i].Access;
            }
        }

        return perms[0].Access;
    }

    public bool Owns(Node node) => Privileged || IsMe(node.Owner);

    private bool IsMe(uint domain) => domain == DomainId || (Target is { } t && domain == t);
}
