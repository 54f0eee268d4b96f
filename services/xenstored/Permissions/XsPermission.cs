using System.Globalization;

namespace Disagg.Xenstored.Permissions;

/// <summary>
/// One permission entry: a letter (n, r, w, b) and a domain id (spec §6). In a node's list the
/// first entry names the owner and what every domain not listed after it may do.
/// </summary>
public readonly record struct XsPermission(XsAccess Access, uint DomainId)
{
    /// <summary>Parses "b5"-style text; false for anything else (empty, unknown letter, non-decimal or overflowing id).</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out XsPermission permission)
    {
        permission = default;
        if (text.Length < 2 || text.Length > 11)
        {
            return false;
        }

        XsAccess access;
        switch (text[0])
        {
            case (byte)'n': access = XsAccess.None; break;
            case (byte)'r': access = XsAccess.Read; break;
            case (byte)'w': access = XsAccess.Write; break;
            case (byte)'b': access = XsAccess.Both; break;
            default: return false;
        }

        ulong id = 0;
        foreach (var c in text[1..])
        {
            if (c < (byte)'0' || c > (byte)'9')
            {
                return false;
            }

            id = (id * 10) + (uint)(c - '0');
        }

        if (id > ushort.MaxValue)
        {
            return false; // domain ids are 16-bit (domid_t)
        }

        permission = new XsPermission(access, (uint)id);
        return true;
    }

    public char Letter => Access switch
    {
        XsAccess.Read => 'r',
        XsAccess.Write => 'w',
        XsAccess.Both => 'b',
        _ => 'n',
    };

    /// <summary>Writes "b5" into <paramref name="destination"/>; returns the byte count.</summary>
    public int Format(Span<byte> destination)
    {
        destination[0] = (byte)Letter;
        DomainId.TryFormat(destination[1..], out var written, default, CultureInfo.InvariantCulture);
        return written + 1;
    }

    public override string ToString() => Letter + DomainId.ToString(CultureInfo.InvariantCulture);
}
