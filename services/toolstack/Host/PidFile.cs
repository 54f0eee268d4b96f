using System.Globalization;

namespace Disagg.Toolstack.Host;

/// <summary>The daemon's pid file: how a CLI tells a live host from the leftovers of a dead one.</summary>
internal static class PidFile
{
    /// <summary>The pid in the file if that process is alive; null for no file, garbage, or a dead process.</summary>
    public static int? ReadLive(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Signals.IsAlive(pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
