using Disagg.Interop;

namespace Disagg.Ring.Tests;

public sealed class InteropTests
{
    private static bool MapsMention(string name) => File.ReadAllText("/proc/self/maps").Contains("memfd:" + name, StringComparison.Ordinal);

    [Fact]
    public unsafe void DisposingASegmentUnmapsItAndClosesItsFd()
    {
        var name = "dispose-" + Guid.NewGuid().ToString("N")[..8];
        var segment = SharedMemorySegment.Create(name, 4);
        var fd = segment.Fd.Value;
        segment.Span.Fill(1);
        Assert.True(MapsMention(name));
        Assert.True(File.Exists($"/proc/self/fd/{fd}"));
        segment.Dispose();
        Assert.False(MapsMention(name));
        Assert.True(segment.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => segment.Pointer[0]);
        Assert.True(!File.Exists($"/proc/self/fd/{fd}") || !new FileInfo($"/proc/self/fd/{fd}").LinkTarget!.Contains(name, StringComparison.Ordinal));
    }

    [Fact]
    public unsafe void DiscardedPagesReadAsZero()
    {
        using var segment = SharedMemorySegment.Create("discard", 4);
        segment.Span.Fill(0xFF);
        segment.Discard(1, 2);
        Assert.Equal(0xFF, segment.Pointer[0]);
        Assert.Equal(0, segment.Pointer[4096]);
        Assert.Equal(0, segment.Pointer[(3 * 4096) - 1]);
        Assert.Equal(0xFF, segment.Pointer[3 * 4096]);
        Assert.Throws<ArgumentOutOfRangeException>(() => segment.Discard(3, 2));
    }

    [Fact]
    public void DoorbellsCoalesceRingsAndTimeOut()
    {
        using var bell = new Doorbell();
        Assert.False(bell.Wait(TimeSpan.FromMilliseconds(20)));
        bell.Ring();
        bell.Ring();
        Assert.True(bell.Wait(TimeSpan.FromSeconds(1)));
        Assert.False(bell.TryConsume()); // two rings, one wake
        var ringer = new Thread(() => bell.Ring());
        ringer.Start();
        Assert.True(bell.Wait(TimeSpan.FromSeconds(5)));
        ringer.Join();
    }

    [Fact]
    public void OneReactorThreadServesHundredsOfDoorbells()
    {
        using var reactor = new EpollReactor();
        var bells = Enumerable.Range(0, 300).Select(_ => new Doorbell()).ToArray();
        var hits = new int[bells.Length];
        var registrations = bells.Select((b, i) => reactor.Register(b, () => Interlocked.Increment(ref hits[i]))).ToArray();
        for (var round = 1; round <= 3; round++)
        {
            foreach (var b in bells)
            {
                b.Ring();
            }

            var r = round;
            Assert.True(SpinWait.SpinUntil(() => hits.All(h => Volatile.Read(ref h) >= r), TimeSpan.FromSeconds(10)), $"round {round}: {hits.Count(h => h < r)} doorbells unanswered");
        }

        foreach (var reg in registrations)
        {
            reg.Dispose();
        }

        foreach (var b in bells)
        {
            b.Dispose();
        }
    }

    [Fact]
    public async Task WaitAsyncCompletesOnTheNextRing()
    {
        using var reactor = new EpollReactor();
        using var bell = new Doorbell();
        var waiting = reactor.WaitAsync(bell);
        Assert.False(waiting.IsCompleted);
        bell.Ring();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void SystemCallFailuresAreTypedWithTheErrno()
    {
        var e = Assert.Throws<InteropException>(() => SharedMemorySegment.Map(new FileDescriptor(-1), 1));
        Assert.Equal(9, e.Errno); // EBADF
        Assert.Contains("mmap", e.Operation, StringComparison.Ordinal);
    }
}
