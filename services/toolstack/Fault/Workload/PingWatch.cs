using System.Globalization;
using System.Text.RegularExpressions;
using Disagg.Toolstack.Fault.Report;

namespace Disagg.Toolstack.Fault.Workload;

/// <summary>
/// One pvos ping's sequence-numbered replies, read from its console: which seqs came back and when we saw them.
/// A run of unanswered seqs between two answered ones is a loss window (frames lost, how long); the time since
/// the last reply, once it exceeds the bound, is a wedged link. Seqs before the first reply are the start-up
/// (ARP, the peer not listening yet), not loss.
/// </summary>
public sealed partial class PingWatch(string guest, int intervalMs)
{
    /// <summary>A reply this slow or slower is kept with its seq and round trip (a held frame: the outage it saw).</summary>
    public const int SlowMs = 20;

    /// <summary>At most this many slow replies are kept (a 10-minute run on a loaded host stays a small report).</summary>
    private const int SlowKept = 4096;

    private readonly List<LossWindow> _windows = [];
    private readonly List<SlowReply> _slow = [];
    private readonly long[] _rttHistogram = new long[1001]; // ms, the last bucket for 1 s and more
    private int _lastSeq = -1;
    private long _lastReplyMs = -1;

    public string Guest { get; } = guest;

    public long Received { get; private set; }

    public long Lost { get; private set; }

    public long LastReplyMs => _lastReplyMs;

    public IReadOnlyList<LossWindow> Windows => _windows;

    /// <summary>The longest loss window so far, in ms (0 when none).</summary>
    public long MaxWindowMs { get; private set; }

    /// <summary>Whether this guest pings at all (a reply was seen).</summary>
    public bool Active => _lastSeq >= 0;

    public void Feed(IReadOnlyList<string> lines, long nowMs)
    {
        foreach (var line in lines)
        {
            var m = Reply().Match(line);
            if (!m.Success)
            {
                continue;
            }

            var seq = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (seq <= _lastSeq)
            {
                continue; // a late or duplicate reply: counted by ping itself, not a new one
            }

            Received++;
            if (double.TryParse(m.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var rtt))
            {
                var ms = (long)rtt;
                _rttHistogram[Math.Min(ms, _rttHistogram.Length - 1)]++;
                MaxRttMs = Math.Max(MaxRttMs, ms);
                if (ms >= SlowMs && _slow.Count < SlowKept)
                {
                    _slow.Add(new SlowReply(nowMs, seq, ms));
                }
            }

            if (_lastSeq >= 0 && seq > _lastSeq + 1)
            {
                var lost = seq - _lastSeq - 1;
                Lost += lost;

                // Seen by polling: the window runs from the last reply we saw to this one, at least the seqs' own span.
                var span = Math.Max(nowMs - _lastReplyMs, (long)(lost + 1) * intervalMs);
                _windows.Add(new LossWindow(Guest, _lastReplyMs, _lastReplyMs + span, lost));
                MaxWindowMs = Math.Max(MaxWindowMs, span);
            }

            _lastSeq = seq;
            _lastReplyMs = nowMs;
        }
    }

    /// <summary>How long the link has been silent (0 before the first reply: not up yet, judged by the start-up bound).</summary>
    public long SilentMs(long nowMs) => _lastReplyMs < 0 ? 0 : nowMs - _lastReplyMs;

    /// <summary>The longest round trip of a reply, in ms.</summary>
    public long MaxRttMs { get; private set; }

    public PingSummary Summary(long nowMs) => new(Guest, Received, Lost, MaxWindowMs, SilentMs(nowMs), [.. _windows], MedianRttMs(), MaxRttMs, [.. _slow]);

    private long MedianRttMs()
    {
        var timed = _rttHistogram.Sum();
        for (long i = 0, seen = 0; i < _rttHistogram.Length; i++)
        {
            seen += _rttHistogram[i];
            if (seen * 2 >= timed && timed > 0)
            {
                return i;
            }
        }

        return 0;
    }

    // pvos ping: "64 bytes from 10.0.0.2: icmp_seq=12 time=0.734 ms"
    [GeneratedRegex(@"bytes from [0-9.]+: icmp_seq=(\d+) (?:time=([0-9.]+) ms)?")]
    private static partial Regex Reply();
}
