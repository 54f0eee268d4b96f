namespace Disagg.DomainImage;

/// <summary>One state file of a device model: its name after the `qemu-dm-N.` prefix (no path) and its bytes.</summary>
public sealed record DeviceModelFile(string Name, byte[] Contents)
{
    /// <summary>Letters, digits and dots, not starting with a dot: a name that can never leave the state directory.</summary>
    public static bool ValidName(string name)
    {
        if (name.Length is 0 or > DeviceModelRecord.MaxNameLength || name[0] == '.')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '.'))
            {
                return false;
            }
        }

        return true;
    }
}
