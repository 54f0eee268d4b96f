using System.Globalization;

namespace Disagg.Blkback.Hosting;

/// <summary>Command line: where xenstored listens, where our state goes, and the data path's sizes.</summary>
internal sealed record BlkbackOptions(string XenstoreSocket, string StateDirectory, int MaxIndirectSegments, int BufferPages)
{
    public const string Usage = "usage: disagg-blkback --xenstore SOCKET --state-dir DIR [--max-indirect-segments 32] [--buffer-pages 4096]\n"
        + "  kernel channel from DISAGG_KERNEL_SOCKET, DISAGG_SERVICE_TOKEN, DISAGG_DOMAIN_ID";

    public static bool TryParse(string[] args, out BlkbackOptions? options, out string error)
    {
        options = null;
        string? xenstore = null, state = null;
        var indirect = 32;
        var pages = 4096;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--xenstore" when value is not null:
                    xenstore = value;
                    i++;
                    break;
                case "--state-dir" when value is not null:
                    state = value;
                    i++;
                    break;
                // Linux blkfront asks for 32 by default; each slot holds this many pages, so it bounds the buffer's use.
                case "--max-indirect-segments" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out indirect) && indirect is >= 11 and <= 4096:
                case "--buffer-pages" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out pages) && pages is >= 16 and <= 4096:
                    i++;
                    break;
                default:
                    error = $"bad argument '{args[i]}'";
                    return false;
            }
        }

        if (xenstore is null || state is null)
        {
            error = "--xenstore and --state-dir are required";
            return false;
        }

        options = new BlkbackOptions(xenstore, state, indirect, pages);
        error = "";
        return true;
    }
}
