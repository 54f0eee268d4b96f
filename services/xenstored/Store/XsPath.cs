using System.Globalization;
using System.Text;
using Disagg.Abi.Io;

namespace Disagg.Xenstored.Store;

/// <summary>
/// Xen's node-name rules (spec §6): absolute paths start with '/', relative ones resolve under
/// /local/domain/&lt;caller&gt;; characters A-Z a-z 0-9 - / _ @; no empty component, no trailing
/// '/' except the root; at most 3072 bytes absolute, and at most 2048 after a /local/domain/N/
/// prefix. Special paths (@introduceDomain, @releaseDomain) are only valid where a caller allows them (watches).
/// </summary>
public static class XsPath
{
    public const string Root = "/";
    public const string IntroduceDomain = "@introduceDomain";
    public const string ReleaseDomain = "@releaseDomain";
    private const string LocalDomain = "/local/domain/";

    public static string DomainPath(uint domainId) => LocalDomain + domainId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Canonical absolute form of <paramref name="raw"/> (without its NUL), or null when Xen would answer EINVAL.</summary>
    public static string? TryCanonicalize(ReadOnlySpan<byte> raw, uint callerDomain, bool allowSpecial)
    {
        if (raw.IsEmpty || raw.Length > XsWireHeader.MaxAbsolutePath)
        {
            return null;
        }

        if (raw[0] == (byte)'@')
        {
            return allowSpecial && ValidChars(raw[1..]) && raw.Length > 1 ? Encoding.ASCII.GetString(raw) : null;
        }

        string path;
        if (raw[0] == (byte)'/')
        {
            path = Encoding.ASCII.GetString(raw);
        }
        else
        {
            if (raw.Length > XsWireHeader.MaxRelativePath)
            {
                return null;
            }

            path = DomainPath(callerDomain) + "/" + Encoding.ASCII.GetString(raw);
        }

        return IsValidAbsolute(path) ? path : null;
    }

    public static bool IsValidAbsolute(string path)
    {
        if (path.Length == 0 || path[0] != '/' || path.Length > XsWireHeader.MaxAbsolutePath)
        {
            return false;
        }

        if (path.Length == 1)
        {
            return true;
        }

        if (path[^1] == '/')
        {
            return false;
        }

        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            if (!IsNameChar(c) || (c == '/' && i > 0 && path[i - 1] == '/'))
            {
                return false;
            }
        }

        // Xen limits the part a domain controls under its own directory, not the prefix it was given.
        if (path.StartsWith(LocalDomain, StringComparison.Ordinal))
        {
            var slash = path.IndexOf('/', LocalDomain.Length);
            if (slash > 0 && path.Length - slash - 1 > XsWireHeader.MaxRelativePath)
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsSpecial(string path) => path.Length > 0 && path[0] == '@';

    /// <summary>Parent of a canonical absolute path other than the root.</summary>
    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash == 0 ? Root : path[..slash];
    }

    public static string LastComponent(string path) => path[(path.LastIndexOf('/') + 1)..];

    public static string Child(string parent, string name) => parent.Length == 1 ? "/" + name : parent + "/" + name;

    /// <summary>True when <paramref name="path"/> is <paramref name="ancestor"/> or below it.</summary>
    public static bool IsAtOrBelow(string path, string ancestor)
    {
        if (ancestor.Length == 1)
        {
            return path.Length > 0 && path[0] == '/';
        }

        return path.StartsWith(ancestor, StringComparison.Ordinal) &&
               (path.Length == ancestor.Length || path[ancestor.Length] == '/');
    }

    /// <summary>What a watcher sees: relative watches get paths relative to their domain directory, as they asked.</summary>
    public static string Relativize(string path, uint domainId)
    {
        var prefix = DomainPath(domainId) + "/";
        return path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path;
    }

    private static bool ValidChars(ReadOnlySpan<byte> raw)
    {
        foreach (var b in raw)
        {
            if (!IsNameChar((char)b))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsNameChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '/' or '_' or '@';
}
