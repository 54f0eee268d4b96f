using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Disagg.Kernel.Core.Domains;

namespace Disagg.Kernel.Core.Migration;

/// <summary>
/// The hand-off after the stop round, kernel to kernel on the migration socket (docs/SAVE-RESTORE.md, "Live
/// migration"): the target's kernel says it built the domain (Built, with its memory digest) or why not
/// (Refused); the source's kernel compares digests if asked and answers Commit (or Abort); the target unpauses
/// the domain on Commit and says Resumed (with the new domain's id). Two-phase as before — the target runs the
/// guest only after the source gave it up, so a target that dies before Commit leaves it running at the source —
/// but each step is one kernel thread waking on its socket, not a daemon's thread pool relaying it.
/// </summary>
public static class MigrationHandOff
{
    /// <summary>Every frame: kind (u32 LE), a u32 (Refused: the reason's length), a u64 (digest, domain id), then a Refused frame's reason (UTF-8).</summary>
    public const int FrameBytes = 16;

    /// <summary>The longest reason a Refused frame carries; a longer one is cut.</summary>
    public const int MaxReason = 1024;

    public enum Kind : uint
    {
        Built = 0x544C_4942, // "BILT"
        Refused = 0x5346_4552, // "REFS"
        Commit = 0x544D_4D43, // "CMMT"
        Abort = 0x5452_4241, // "ABRT"
        Resumed = 0x444D_5352, // "RSMD"

        /// <summary>The target's kernel has read and applied this many bytes of the stream and waits for more.</summary>
        CaughtUp = 0x5448_4743, // "CGHT"

        /// <summary>Right after Resumed, in the same write: the target's stamps (word: their byte count; MigrationTimeline).</summary>
        Timeline = 0x454E_4C54, // "TLNE"
    }

    /// <summary>
    /// How far behind the target may be when the source stops the guest, in pages: applying 256 takes it well under a
    /// millisecond (zero pages only populate a frame; others are an LZ4 expand and a copy). Counted in pages, not bytes:
    /// a zero-page run is a dozen bytes on the wire yet thousands of frames to populate, so a byte slack let a target
    /// still populating the first round of a 256 MiB guest (~80 ms of work, 0.1 MiB of stream) count as caught up, and
    /// the stop round queued behind it (bench/migrate, 2026-12-07 08:12: the stop round's pages applied 73 ms after it
    /// was sent). It also bounds the reports to one per 256 pages, so the ones the source does not read (it reads them
    /// only at the catch-up) stay far below what the sockets' buffers hold (16 KiB per GiB of guest sent): a target
    /// blocked writing a report while the source is blocked writing the stream would stall both.
    /// </summary>
    public const long CatchUpSlack = 256;

    /// <summary>How long the source waits for the target's CaughtUp before it stops the guest anyway.</summary>
    public static readonly TimeSpan CatchUpPatience = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The target's reports while it reads the stream: each time its read finds nothing waiting, everything it read
    /// so far is applied; it says how many pages that is (after every <see cref="CatchUpSlack"/> more), for
    /// <see cref="AwaitCaughtUp"/>.
    /// </summary>
    public static Action CaughtUpReporter(Stream stream, Func<long> pagesApplied)
    {
        var reported = -CatchUpSlack;
        return () =>
        {
            var applied = pagesApplied();
            if (applied - reported >= CatchUpSlack)
            {
                reported = applied;
                TryWrite(stream, Kind.CaughtUp, (ulong)applied);
            }
        };
    }

    /// <summary>
    /// The source's wait before it stops the guest: until the target reports it applied all but
    /// <see cref="CatchUpSlack"/> of the <paramref name="sent"/> pages, so the stop round is not queued behind pre-copy rounds the target is still applying (what made the
    /// downtime hundreds of ms on a loaded host). Read unbuffered: frames left in a buffer would be lost.
    /// </summary>
    /// <remarks>
    /// The wait only shortens the downtime, so it is bounded by <see cref="CatchUpPatience"/>: a target that has not
    /// said so by then gets the stop round anyway (its late CaughtUp frames are skipped where Built is read).
    /// </remarks>
    public static TimeSpan AwaitCaughtUp(Stream raw, long sent)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var left = CatchUpPatience - Stopwatch.GetElapsedTime(started);
            if (raw is Disagg.Interop.DescriptorStream socket && (left <= TimeSpan.Zero || !socket.WaitReadable((int)left.TotalMilliseconds)))
            {
                return Stopwatch.GetElapsedTime(started);
            }

            var (kind, value, reason) = ReadFrame(raw, committed: false, "its word that it applied the pre-copy rounds");
            switch (kind)
            {
                case Kind.CaughtUp when (long)value + CatchUpSlack >= sent:
                    return Stopwatch.GetElapsedTime(started);
                case Kind.CaughtUp:
                    continue;
                case Kind.Refused:
                    throw new MigrationHandOffException(false, $"the target refused the guest: {reason}");
                default:
                    throw new MigrationHandOffException(false, $"the target sent {kind} while applying the pre-copy rounds");
            }
        }
    }

    /// <summary>
    /// The source's side, after the stop round was written: waits for the target's word, compares the memory
    /// digest when <paramref name="verify"/>, commits, and waits until the guest runs there. A failure before the
    /// Commit throws <see cref="MigrationHandOffException"/> with Committed false (the guest may run on here);
    /// after it, with Committed true (the target may be running it).
    /// </summary>
    /// <param name="stream">Where the stop round was written (flushed here).</param>
    /// <param name="raw">The same socket unbuffered, for the target's frames.</param>
    /// <param name="timeline">Gets the source's steps from StopRoundSent on, and the target's (its Timeline frame).</param>
    public static HandOffTimes Commit(Domain domain, Stream stream, Stream raw, bool verify, MigrationTimeline? timeline = null)
    {
        timeline ??= new MigrationTimeline();
        var started = Stopwatch.GetTimestamp();
        stream.Flush(); // the stop round's last bytes
        timeline.Mark(MigrationStep.StopRoundSent);
        var (kind, value, reason) = ReadFrame(raw, committed: false, "its word that it built the domain", skipCaughtUp: true);
        if (kind == Kind.Refused)
        {
            throw new MigrationHandOffException(false, $"the target refused the guest: {reason}");
        }

        if (kind != Kind.Built)
        {
            throw new MigrationHandOffException(false, $"the target sent {kind} where Built belongs");
        }

        timeline.Mark(MigrationStep.BuiltRead);
        var built = timeline[MigrationStep.BuiltRead];
        if (verify)
        {
            var (ours, _) = MemoryDigest.Compute(domain);
            if (ours != value)
            {
                TryWrite(stream, Kind.Abort, 0);
                throw new MigrationHandOffException(false, $"the guest's memory on the target differs from ours (digest {value:x16}, ours {ours:x16})");
            }
        }

        var commit = Stopwatch.GetTimestamp();
        try
        {
            Write(stream, Kind.Commit, 0);
            timeline.Mark(MigrationStep.CommitSent);
        }
        catch (IOException e)
        {
            // Not delivered for sure, nor surely not: the target may have read it. Treated as given up.
            throw new MigrationHandOffException(true, $"the commit could not be sent: {e.Message}");
        }

        var (answer, id, _) = ReadFrame(raw, committed: true, "its word that the guest runs there");
        if (answer != Kind.Resumed)
        {
            throw new MigrationHandOffException(true, $"the target sent {answer} where Resumed belongs");
        }

        timeline.Mark(MigrationStep.ResumedRead);
        var times = new HandOffTimes((int)id, Stopwatch.GetElapsedTime(started, built), Stopwatch.GetElapsedTime(commit, timeline[MigrationStep.ResumedRead]));
        ReadTimeline(raw, timeline);
        return times;
    }

    /// <summary>The target's stamps, sent with Resumed (so already here); only for the figures, so a missing or odd frame is skipped.</summary>
    private static void ReadTimeline(Stream raw, MigrationTimeline timeline)
    {
        try
        {
            if (raw is Disagg.Interop.DescriptorStream socket && !socket.WaitReadable(1000))
            {
                return; // it came in Resumed's write, or not at all
            }

            Span<byte> frame = stackalloc byte[FrameBytes];
            raw.ReadExactly(frame);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(frame) != (uint)Kind.Timeline || length > MaxReason)
            {
                return;
            }

            var stamps = new byte[length];
            raw.ReadExactly(stamps);
            timeline.DecodeTarget(stamps);
        }
        catch (IOException)
        {
            // the target went away after resuming the guest: the figures lack its steps, nothing else
        }
    }

    /// <summary>
    /// The target's side, the domain built and paused: says Built, waits for the source's Commit, unpauses the
    /// domain (unless it was paused at the source) and says Resumed. Anything but a Commit (an Abort, the source
    /// gone, silence for a minute) throws: the caller destroys the domain.
    /// </summary>
    /// <param name="timeline">The target's steps so far; gets BuiltSent, CommitRead and Resumed, and is sent with Resumed.</param>
    public static void AwaitCommit(Domain domain, Stream stream, bool verify, bool staysPaused, MigrationTimeline? timeline = null)
    {
        timeline ??= new MigrationTimeline();
        Write(stream, Kind.Built, verify ? MemoryDigest.Compute(domain).Hash : 0);
        timeline.Mark(MigrationStep.BuiltSent);
        // A source that did not wait for its CaughtUp frames reads past them (Commit skips them).
        var (kind, _, _) = ReadFrame(stream, committed: false, "the commit"); // the stream's stall limit bounds the wait
        if (kind != Kind.Commit)
        {
            throw new IOException(kind == Kind.Abort ? "the source aborted the migration" : $"the source sent {kind} where Commit belongs");
        }

        timeline.Mark(MigrationStep.CommitRead);

        // From here the guest is this host's, whatever the source hears.
        if (!staysPaused)
        {
            domain.Unpause();
        }

        timeline.Mark(MigrationStep.Resumed);

        // Resumed and the stamps in one write: one wake-up of the source, which reads both.
        var stamps = timeline.EncodeTarget();
        var frames = new byte[(2 * FrameBytes) + stamps.Length];
        Encode(frames, Kind.Resumed, 0, (ulong)domain.Id);
        Encode(frames.AsSpan(FrameBytes), Kind.Timeline, (uint)stamps.Length, 0);
        stamps.CopyTo(frames.AsSpan(2 * FrameBytes));
        try
        {
            stream.Write(frames);
            stream.Flush();
        }
        catch (IOException)
        {
            // the source went away; the guest is ours and runs
        }
    }

    /// <summary>The target's refusal after the stream began (best effort: the source may be gone already).</summary>
    public static void Refuse(Stream stream, string reason)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        var length = Math.Min(text.Length, MaxReason);
        var frame = new byte[FrameBytes + length];
        Encode(frame, Kind.Refused, (uint)length, 0);
        text.AsSpan(0, length).CopyTo(frame.AsSpan(FrameBytes));
        try
        {
            stream.Write(frame);
            stream.Flush();
        }
        catch (IOException)
        {
            // the source went away; it keeps the guest
        }
    }

    /// <summary>Writes one frame's 16 bytes (pinned by MigrationHandOffTests).</summary>
    public static void Encode(Span<byte> frame, Kind kind, uint word, ulong value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)kind);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], word);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[8..], value);
    }

    private static void Write(Stream stream, Kind kind, ulong value)
    {
        Span<byte> frame = stackalloc byte[FrameBytes];
        Encode(frame, kind, 0, value);
        stream.Write(frame);
        stream.Flush();
    }

    private static void TryWrite(Stream stream, Kind kind, ulong value)
    {
        try
        {
            Write(stream, kind, value);
        }
        catch (IOException)
        {
            // the peer went away; what it concludes is its own
        }
    }

    private static (Kind Kind, ulong Value, string Reason) ReadFrame(Stream stream, bool committed, string what, bool skipCaughtUp = false)
    {
        Span<byte> frame = stackalloc byte[FrameBytes];
        try
        {
            stream.ReadExactly(frame);
            while (skipCaughtUp && BinaryPrimitives.ReadUInt32LittleEndian(frame) == (uint)Kind.CaughtUp)
            {
                stream.ReadExactly(frame); // progress the source did not wait for
            }

            var kind = (Kind)BinaryPrimitives.ReadUInt32LittleEndian(frame);
            var word = BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]);
            var value = BinaryPrimitives.ReadUInt64LittleEndian(frame[8..]);
            if (!Enum.IsDefined(kind))
            {
                throw new MigrationHandOffException(committed, $"waiting for {what}: not a hand-off frame (0x{(uint)kind:x8})");
            }

            if (kind != Kind.Refused)
            {
                return (kind, value, "");
            }

            if (word > MaxReason)
            {
                throw new MigrationHandOffException(committed, $"waiting for {what}: a {word}-byte reason");
            }

            var reason = new byte[word];
            stream.ReadExactly(reason);
            return (kind, value, Encoding.UTF8.GetString(reason));
        }
        catch (EndOfStreamException)
        {
            throw new MigrationHandOffException(committed, $"the connection closed while waiting for {what}");
        }
        catch (IOException e)
        {
            throw new MigrationHandOffException(committed, $"waiting for {what}: {e.Message}");
        }
    }
}

/// <summary>Where the hand-off's time went: from the stop round's end to Built, and from Commit to Resumed.</summary>
public readonly record struct HandOffTimes(int TargetDomainId, TimeSpan ToBuilt, TimeSpan ToResumed);

/// <summary>The hand-off failed; <see cref="Committed"/>: after the source gave the guest up (the target may run it).</summary>
public sealed class MigrationHandOffException(bool committed, string message) : Exception(message)
{
    public bool Committed { get; } = committed;
}
