using System.Globalization;
using System.Text;
using Disagg.Blkback.DataPath;
using Disagg.DiskImage;
using Disagg.Blkback.Xenbus;

namespace Disagg.Blkback.Status;

/// <summary>
/// DIR/status: the I/O loop's line, then one line per device with its counters (docs/BLKBACK.md, status file),
/// replaced atomically (temp file + rename) after a change, at most every <see cref="Interval"/>, so tools never read half a file. The
/// device list is the control task's published snapshot; the counters are the I/O loop's, read without a lock:
/// a torn read of one counter is harmless for statistics, and the loop's hot path stays free of locks.
/// </summary>
internal static class StatusFile
{
    private const string Escaped = "% \t\r\n=";

    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    public static void Write(string stateDirectory, IoLoop loop, IReadOnlyList<Vbd> devices)
    {
        var text = new StringBuilder();
        // The loop thread itself: batches and requests (their ratio is the mean batch size) and what it has
        // allocated, which stays flat while it serves (the hot path allocates nothing per request).
        text.Append(CultureInfo.InvariantCulture, $"loop batches={loop.Batches} requests={loop.RequestsTaken} allocated_bytes={loop.AllocatedBytes} slots={loop.Slots}\n");
        foreach (var d in devices)
        {
            var c = d.Config;
            text.Append(CultureInfo.InvariantCulture, $"vbd{d.FrontendDomain}.{d.DeviceId} domain={d.FrontendDomain} device={d.DeviceId} vdev={Field(c.VirtualDevice)}");
            text.Append(CultureInfo.InvariantCulture, $" image={Field(c.Image)} format={Format(c)} mode={(c.ReadOnly ? "r" : "w")} state={(d.Connected ? "connected" : "disconnected")}");
            Counters(text, d.Counters ?? new VbdCounters(), d.Ring?.InFlight ?? 0);
            text.Append('\n');
        }

        var path = Path.Combine(stateDirectory, "status");
        var temp = path + ".tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, path, overwrite: true);
    }

    private static void Counters(StringBuilder text, VbdCounters s, int inFlight) =>
        text.Append(CultureInfo.InvariantCulture,
            $" requests={s.Requests} refused={s.Refused} reads={s.Reads} writes={s.Writes} sectors_read={s.SectorsRead} sectors_written={s.SectorsWritten} flushes={s.Flushes} discards={s.Discards} io_failures={s.IoFailures} copy_failures={s.CopyFailures} in_flight={inFlight} pushes={s.ResponsePushes} notifications={s.Notifications}");

    private static string Format(VbdConfig? c) => c?.Format switch
    {
        DiskImageFormat.Raw => "raw",
        DiskImageFormat.Qcow2 => "qcow2",
        _ => "-",
    };

    /// <summary>
    /// A value the toolstack wrote, kept to one token so a line still splits on spaces and '=': '%', '=', space,
    /// tab, CR and LF are percent-encoded (an ordinary path is unchanged); absent is "-".
    /// </summary>
    private static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        if (value.AsSpan().IndexOfAny(Escaped) < 0)
        {
            return value;
        }

        var escaped = new StringBuilder(value.Length + 8);
        foreach (var ch in value)
        {
            if (Escaped.Contains(ch, StringComparison.Ordinal))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"%{(int)ch:X2}");
            }
            else
            {
                escaped.Append(ch);
            }
        }

        return escaped.ToString();
    }
}
