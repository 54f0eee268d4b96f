using System.Net.Sockets;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Migration;
using Disagg.Interop;
using Disagg.Kernel.Cpu.Tests;

namespace Disagg.Kernel.Core.Tests;

/// <summary>
/// The kernels' hand-off after the stop round (MigrationHandOff), between two in-process hypervisors on a
/// socket pair: the target runs the guest only after the source's Commit; a refusal, an abort (digests differ)
/// or a source gone before the Commit leave nothing on the target and the source uncommitted.
/// </summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class MigrationHandOffTests
{
    private const int MemoryKiB = 1024;

    /// <summary>Stores a rising counter into one word, forever: a guest whose memory changes while it runs.</summary>
    private static GuestProgram Counter()
    {
        var p = new GuestProgram();
        p.La(18, GuestProgram.CodeBase + 0x40000).Li(20, 1);
        var loop = p.Here;
        p.Emit(Asm.Sd(20, 18, 0)).Emit(Asm.Addi(20, 20, 1));
        p.Emit(Asm.Jal(0, (int)((long)loop - (long)p.Here)));
        return p;
    }

    [Fact]
    public void FramesAreSixteenBytesKindWordValueLittleEndian()
    {
        var frame = new byte[MigrationHandOff.FrameBytes];
        MigrationHandOff.Encode(frame, MigrationHandOff.Kind.Resumed, 7, 0x1122334455667788);
        Assert.Equal("RSMD"u8.ToArray(), frame[..4]);
        Assert.Equal(new byte[] { 7, 0, 0, 0 }, frame[4..8]);
        Assert.Equal(new byte[] { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 }, frame[8..16]);
        MigrationHandOff.Encode(frame, MigrationHandOff.Kind.Built, 0, 0);
        Assert.Equal("BILT"u8.ToArray(), frame[..4]);
        MigrationHandOff.Encode(frame, MigrationHandOff.Kind.Commit, 0, 0);
        Assert.Equal("CMMT"u8.ToArray(), frame[..4]);
        MigrationHandOff.Encode(frame, MigrationHandOff.Kind.Refused, 0, 0);
        Assert.Equal("REFS"u8.ToArray(), frame[..4]);
        MigrationHandOff.Encode(frame, MigrationHandOff.Kind.Abort, 0, 0);
        Assert.Equal("ABRT"u8.ToArray(), frame[..4]);
        MigrationHandOff.Encode(frame, MigrationHandOff.Kind.Timeline, 64, 0);
        Assert.Equal("TLNE"u8.ToArray(), frame[..4]);

        // The target's stamps after it: one i64 LE per step from StopRoundArrived on, in MigrationStep order.
        Assert.Equal(7, (int)MigrationStep.StopRoundArrived);
        Assert.Equal(14, (int)MigrationStep.Resumed);
        var target = new MigrationTimeline();
        target.Mark(MigrationStep.StopRoundArrived, 0x0102);
        target.Mark(MigrationStep.Resumed, 0x0304);
        var stamps = target.EncodeTarget();
        Assert.Equal(8 * 8, stamps.Length);
        Assert.Equal(new byte[] { 2, 1, 0, 0, 0, 0, 0, 0 }, stamps[..8]);
        Assert.Equal(new byte[] { 4, 3, 0, 0, 0, 0, 0, 0 }, stamps[56..64]);
        var source = new MigrationTimeline();
        source.DecodeTarget(stamps);
        Assert.Equal(0x0304L, source[MigrationStep.Resumed]);
        Assert.Equal(0L, source[MigrationStep.Paused]);
    }

    [Fact]
    public async Task TheTargetRunsTheGuestOnlyAfterTheCommitAndWithTheSameMemory()
    {
        using var source = new HypervisorFixture();
        using var target = new HypervisorFixture();
        var d = source.Boot(Counter(), memoryKiB: MemoryKiB);
        var (ours, raw, theirs) = Pair();
        var stamps = new MigrationTimeline();
        var receiving = Task.Run(() =>
        {
            var applied = new System.Runtime.CompilerServices.StrongBox<long>();
            theirs.WouldBlock = MigrationHandOff.CaughtUpReporter(theirs, () => applied.Value);
            var (built, _) = MigrationReceiver.Receive(target.Hypervisor, theirs, null, 0, 0, timeline: stamps, lastWake: () => theirs.WokeAt, applied: applied);
            theirs.WouldBlock = null;
            Assert.Equal(DomainState.Paused, built.State);
            MigrationHandOff.AwaitCommit(built, theirs, verify: true, staysPaused: false, stamps);
            return built;
        });

        // Pre-copy, then the wait until the target applied all of it (its CaughtUp frames), then the stop round.
        var start = MigrationSender.Start(source.Hypervisor, d, ours, []);
        ours.Flush();
        Assert.True(MigrationHandOff.AwaitCaughtUp(raw, start.Pages) >= TimeSpan.Zero);
        d.Pause();
        MigrationSender.Finish(source.Hypervisor, d, ours, start.Records);
        var timeline = new MigrationTimeline();
        var times = MigrationHandOff.Commit(d, ours, raw, verify: true, timeline);
        var arrived = await receiving;

        Assert.Equal(arrived.Id, times.TargetDomainId);
        Assert.NotEqual(DomainState.Paused, arrived.State);
        Assert.True(times.ToBuilt > TimeSpan.Zero && times.ToResumed > TimeSpan.Zero);

        // The target's stamps came with its Resumed: every step it took, as it took them.
        for (var step = MigrationStep.PagesApplied; step <= MigrationStep.Resumed; step++)
        {
            Assert.Equal(stamps[step], timeline[step]);
            Assert.NotEqual(0L, timeline[step]);
        }

        Assert.True(timeline[MigrationStep.StopRoundSent] != 0 && timeline[MigrationStep.BuiltRead] >= timeline[MigrationStep.VcpusLoaded] && timeline[MigrationStep.ResumedRead] >= timeline[MigrationStep.Resumed]);
    }

    [Fact]
    public void ARefusalReachesTheSourceUncommittedWithItsReason()
    {
        using var source = new HypervisorFixture();
        var d = source.Boot(Counter(), memoryKiB: MemoryKiB, start: false);
        var (ours, raw, theirs) = Pair();
        MigrationHandOff.Refuse(theirs, "refused: no room");
        var e = Assert.Throws<MigrationHandOffException>(() => MigrationHandOff.Commit(d, ours, raw, verify: false));
        Assert.False(e.Committed);
        Assert.Contains("the target refused the guest: refused: no room", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASourceGoneBeforeTheCommitLeavesTheTargetsDomainUnrun()
    {
        using var source = new HypervisorFixture();
        using var target = new HypervisorFixture();
        var d = source.Boot(Counter(), memoryKiB: MemoryKiB);
        var (ours, raw, theirs) = Pair();
        var receiving = Task.Run(() =>
        {
            var (built, _) = MigrationReceiver.Receive(target.Hypervisor, theirs, null, 0, 0);
            var e = Assert.ThrowsAny<Exception>(() => MigrationHandOff.AwaitCommit(built, theirs, verify: false, staysPaused: false));
            return (built, e);
        });

        var start = MigrationSender.Start(source.Hypervisor, d, ours, []);
        d.Pause();
        MigrationSender.Finish(source.Hypervisor, d, ours, start.Records);
        ours.Flush();
        raw.Dispose(); // the source dies before its commit
        var (domain, error) = await receiving;
        Assert.True(error is MigrationHandOffException or IOException, error.ToString());
        Assert.Equal(DomainState.Paused, domain.State); // never ran: the caller destroys it
    }

    /// <summary>A loopback TCP pair: ours buffered for writing (as the kernel writes records) and raw for reading, theirs as the target's kernel reads it.</summary>
    private static (Stream Ours, Stream Raw, DescriptorStream Theirs) Pair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        var server = listener.Accept();
        server.Blocking = false; // as the daemon's socket is when the kernel gets it
        Sockets.Add(server);
        var raw = new NetworkStream(client, ownsSocket: true);
        return (new BufferedStream(raw, 1 << 20), raw, new DescriptorStream(new FileDescriptor((int)server.Handle), 60_000));
    }

    /// <summary>The target ends' sockets, kept alive (and their descriptors open) for the test's length.</summary>
    private static readonly List<Socket> Sockets = [];
}
