using System.Diagnostics;
using Disagg.Interop;

namespace Disagg.Bench;

/// <summary>The floor any blocking cross-thread or cross-process notification pays, measured in the same run as the figure it is compared with.</summary>
public static class WakeUpFloor
{
    /// <summary>Median round trip, in microseconds, of a blocking eventfd ping-pong between two threads.</summary>
    public static double EventfdPingPong(int rounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        using var ping = new Doorbell();
        using var pong = new Doorbell();
        var peer = new Thread(() =>
        {
            for (var i = 0; i < rounds; i++)
            {
                ping.Wait(TimeSpan.FromSeconds(5));
                pong.Ring();
            }
        });
        peer.Start();
        var samples = new double[rounds];
        for (var i = 0; i < rounds; i++)
        {
            var t = Stopwatch.GetTimestamp();
            ping.Ring();
            pong.Wait(TimeSpan.FromSeconds(5));
            samples[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
        }

        peer.Join();
        Array.Sort(samples);
        return samples[rounds / 2];
    }
}
