using System.Diagnostics;
using Disagg.TestSupport.Netif;

namespace Disagg.Bench.Netback;

/// <summary>
/// One sender and one receiver native frontend on one bridge, each on its own thread, pushing frames of one size
/// through netback for a fixed time. The figure is what the receiver got; netback's CPU comes from /proc.
/// </summary>
internal static class NetbackLoad
{
    public sealed record Result(long Received, long Sent, double Seconds, double NetbackCpuSeconds, long TxErrors);

    public static Result Run(NativeNetfront sender, NativeNetfront receiver, int netbackPid, int frameSize, TimeSpan duration)
    {
        var frame = new byte[frameSize];
        Frames.Mac(receiver.Vif.Mac).CopyTo(frame, 0);
        Frames.Mac(sender.Vif.Mac).CopyTo(frame, 6);
        frame[12] = 0x88;
        frame[13] = 0xb5; // local experimental ethertype: nobody answers it
        var stop = false;
        long sent = 0;
        long received = 0;
        var rx = new Thread(() =>
        {
            long n = 0;
            void Count(ReadOnlySpan<byte> f) => n++;
            while (!Volatile.Read(ref stop))
            {
                if (receiver.Receive(Count) == 0)
                {
                    receiver.Wait(TimeSpan.FromMilliseconds(5));
                }

                Volatile.Write(ref received, n);
            }
        }) { Name = "bench-rx" };
        var tx = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                var n = 0;
                while (n < 64 && sender.TrySend(frame))
                {
                    n++;
                }

                if (n > 0)
                {
                    sender.Flush();
                    sent += n;
                }
                else if (sender.ReapTx() == 0)
                {
                    sender.Wait(TimeSpan.FromMilliseconds(5));
                }
            }
        }) { Name = "bench-tx" };
        rx.Start();
        Thread.Sleep(100);
        var cpu0 = CpuSeconds(netbackPid);
        var r0 = Volatile.Read(ref received);
        var clock = Stopwatch.StartNew();
        tx.Start();
        Thread.Sleep(duration);
        var r1 = Volatile.Read(ref received);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu1 = CpuSeconds(netbackPid);
        Volatile.Write(ref stop, true);
        tx.Join();
        rx.Join();
        return new Result(r1 - r0, sent, seconds, cpu1 - cpu0, sender.TxErrors);
    }

    /// <summary>utime + stime of a process, from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
    }
}
