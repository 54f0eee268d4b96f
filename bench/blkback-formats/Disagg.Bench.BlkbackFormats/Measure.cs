using System.Diagnostics;

namespace Disagg.Bench.BlkbackFormats;

/// <summary>Timed loops: operations per second, and MB/s over 1 MiB steps.</summary>
internal static class Measure
{
    public static long Random4k(Random r, long span) => r.NextInt64(0, span / 4096) * 4096;

    public static double Iops(double seconds, Action<Random> op)
    {
        var r = new Random(1);
        for (var i = 0; i < 2000; i++)
        {
            op(r); // warm-up: JIT tiers, caches
        }

        var sw = Stopwatch.StartNew();
        long n = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            for (var i = 0; i < 256; i++)
            {
                op(r);
            }

            n += 256;
        }

        return n / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Calls <paramref name="op"/> with mebibyte indices 0, 1, 2, ... (wrapping at <paramref name="mebibytes"/>).</summary>
    public static double Sequential(double seconds, long mebibytes, Action<long> op)
    {
        var sw = Stopwatch.StartNew();
        long done = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            op(done % mebibytes);
            done++;
        }

        return done * (1 << 20) / 1e6 / sw.Elapsed.TotalSeconds;
    }

    /// <summary>One operation per offset, each exactly once: operations per second.</summary>
    public static double Each(long[] offsets, Action<long> op)
    {
        var sw = Stopwatch.StartNew();
        foreach (var at in offsets)
        {
            op(at);
        }

        return offsets.Length / sw.Elapsed.TotalSeconds;
    }
}
