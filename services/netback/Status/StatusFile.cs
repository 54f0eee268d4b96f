using System.Globalization;
using System.Text;
using Disagg.Netback.Switch;
using Disagg.Netback.Uplink;
using Disagg.Netback.Xenbus;

namespace Disagg.Netback.Status;

/// <summary>
/// DIR/status: one line per vif and per uplink with its counters (docs/NETBACK.md, statistics), replaced
/// atomically (temp file + rename) after a change, at most twice a second, so tools never read half a file. Counters are the
/// switching thread's, read without a lock: a torn read of one counter is harmless for statistics.
/// </summary>
internal static class StatusFile
{
    public static void Write(string stateDirectory, DataPath.SwitchLoop sw, IEnumerable<VifDevice> devices, IEnumerable<TapUplink> uplinks)
    {
        var text = new StringBuilder();
        // The switching thread itself: batches and frames (their ratio is the mean batch size) and what it has
        // allocated, which stays flat while it forwards (the hot path allocates nothing).
        text.Append(CultureInfo.InvariantCulture, $"switch batches={sw.Batches} frames={sw.Frames} allocated_bytes={sw.AllocatedBytes}\n");
        foreach (var d in devices)
        {
            var s = d.Settings;
            text.Append(CultureInfo.InvariantCulture, $"{d.Id} domain={d.Id.Domain} device={d.Id.Device} bridge={s.Bridge} mac={s.Mac} mtu={s.Mtu} state={(d.Connected ? "connected" : "disconnected")}");
            Counters(text, d.Vif?.Port?.Statistics ?? d.LastStatistics);
            text.Append('\n');
        }

        foreach (var u in uplinks)
        {
            text.Append(CultureInfo.InvariantCulture, $"{u.Device.Name} uplink bridge={u.Bridge} mtu={u.Mtu} state=up");
            Counters(text, u.Port?.Statistics);
            text.Append('\n');
        }

        var path = Path.Combine(stateDirectory, "status");
        var temp = path + ".tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, path, overwrite: true);
    }

    private static void Counters(StringBuilder text, PortStatistics? s)
    {
        s ??= new PortStatistics();
        text.Append(CultureInfo.InvariantCulture,
            $" rx_frames={s.RxFrames} rx_bytes={s.RxBytes} tx_frames={s.TxFrames} tx_bytes={s.TxBytes} drops={s.Drops} errors={s.Errors} spoofed={s.Spoofed} request_errors={s.RequestErrors} rx_no_buffer={s.RxNoBuffer} rx_backlogged={s.RxBacklogged}");
    }
}
