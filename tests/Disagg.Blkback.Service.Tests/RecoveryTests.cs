using System.Buffers.Binary;
using System.Diagnostics;
using Disagg.Abi.Io;
using Disagg.DiskImage;
using Disagg.Blkfront.Native;

namespace Disagg.Blkback.Service.Tests;

/// <summary>
/// ARCHITECTURE §6: blkback is SIGKILLed at random moments under a write load and restarted (the test plays the
/// supervisor); the backend comes back in InitWait and the frontend reconnects, re-issuing every write that had
/// no response from its shadow copies. Afterwards every acknowledged write is read back from a fresh start.
/// </summary>
[Collection("blkback processes")]
public sealed class RecoveryTests : IAsyncLifetime
{
    private const int Blocks = 1024; // 4 KiB blocks of a 4 MiB disk
    private BlkbackRig _rig = null!;

    public async Task InitializeAsync() => _rig = await BlkbackRig.StartAsync();

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    [Theory]
    [InlineData("raw")]
    [InlineData("qcow2")]
    public async Task KilledBlkbackLosesNoAcknowledgedWrite(string format)
    {
        var image = _rig.File("disk." + format);
        if (format == "raw")
        {
            DiskImages.CreateRaw(image, Blocks * 4096L);
        }
        else
        {
            DiskImages.CreateQcow2(image, Blocks * 4096L);
        }

        var front = await _rig.AttachAsync(new BlkfrontDisk(image, format), pages: 64);
        var acked = new long[Blocks]; // per block: the generation last acknowledged (0 = never written)
        var random = new Random(format.Length);
        var kills = 0;
        var recoveries = new List<double>();
        var killAt = Stopwatch.StartNew();
        var nextKill = random.Next(150, 500);
        var inFlight = new Dictionary<ulong, (int Block, long Generation, int Page, BlkifRequest Request)>();
        var busyBlocks = new HashSet<int>();
        var freePages = new Stack<int>(Enumerable.Range(0, 32));
        long generation = 0;
        ulong id = 0;
        var completed = 0;
        Stopwatch? sinceKill = null;
        var deadline = Stopwatch.StartNew();
        while (kills < 3 || completed < 3000)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(4), $"{completed} writes done, {kills} kills, {inFlight.Count} in flight: {_rig.Blkback.StdErr}");
            // Keep 16 writes in flight, never two on one block (the frontend's own ordering rule).
            while (inFlight.Count < 16 && freePages.Count > 0)
            {
                var block = random.Next(Blocks);
                if (!busyBlocks.Add(block))
                {
                    continue;
                }

                var page = freePages.Pop();
                var g = ++generation;
                Fill(front.Page(page), block, g);
                var request = NativeBlkfront.Request(BlkifOperation.Write, ++id, block * 8L, (page, 0, 7));
                front.Ring.NextRequest() = request;
                inFlight[id] = (block, g, page, request);
            }

            front.Push();
            var took = false;
            while (front.Ring.TryTakeResponse(out var rsp))
            {
                took = true;
                var w = inFlight[rsp.Id];
                Assert.Equal(BlkifResponse.StatusOkay, rsp.Status);
                inFlight.Remove(rsp.Id);
                busyBlocks.Remove(w.Block);
                freePages.Push(w.Page);
                acked[w.Block] = w.Generation;
                completed++;
                if (sinceKill is not null)
                {
                    recoveries.Add(sinceKill.Elapsed.TotalMilliseconds);
                    sinceKill = null;
                }
            }

            if (kills < 3 && sinceKill is null && killAt.ElapsedMilliseconds > nextKill)
            {
                _rig.Blkback.Kill();
                sinceKill = Stopwatch.StartNew();
                kills++;
                await _rig.Blkback.StartAsync();
                Assert.Equal(XenbusState.InitWait, await front.BackendStateAsync()); // §6: the frontend reconnects
                await front.ReconnectAsync(inFlight.OrderBy(kv => kv.Key).Select(kv => kv.Value.Request), TimeSpan.FromSeconds(60));
                killAt.Restart();
                nextKill = random.Next(150, 500);
            }

            if (!took)
            {
                front.WaitForResponses(TimeSpan.FromMilliseconds(50));
            }
        }

        // Drain, then read every block back through a fresh blkback.
        while (inFlight.Count > 0)
        {
            front.Push(); // a reconnect just before the load ended re-queued its shadow without pushing it
            while (front.Ring.TryTakeResponse(out var rsp))
            {
                var w = inFlight[rsp.Id];
                inFlight.Remove(rsp.Id);
                acked[w.Block] = w.Generation;
                if (sinceKill is not null)
                {
                    recoveries.Add(sinceKill.Elapsed.TotalMilliseconds); // the last kill's first answer came in the drain
                    sinceKill = null;
                }
            }

            front.WaitForResponses(TimeSpan.FromMilliseconds(100));
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(5), "writes never answered");
        }

        if (sinceKill is not null)
        {
            // The last kill came with nothing in flight: its recovery is the first request after it.
            Assert.Equal(BlkifResponse.StatusOkay, front.Do(NativeBlkfront.Request(BlkifOperation.Read, ++id, 0, (40, 0, 7))));
            recoveries.Add(sinceKill.Elapsed.TotalMilliseconds);
        }

        _rig.Blkback.Kill();
        await _rig.Blkback.StartAsync();
        await front.ReconnectAsync([], TimeSpan.FromSeconds(60));
        var mismatches = 0;
        for (var block = 0; block < Blocks; block++)
        {
            Assert.Equal(BlkifResponse.StatusOkay, front.Do(NativeBlkfront.Request(BlkifOperation.Read, ++id, block * 8L, (40, 0, 7))));
            var got = front.Page(40);
            var expected = new byte[4096];
            if (acked[block] != 0)
            {
                Fill(expected, block, acked[block]);
            }

            if (!got.SequenceEqual(expected))
            {
                mismatches++;
            }
        }

        Assert.Equal(0, mismatches);
        Assert.Equal(3, recoveries.Count);
        Console.WriteLine($"recovery (SIGKILL -> first completed request), ms: {string.Join(", ", recoveries.Select(r => r.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    /// <summary>A block's content names its block and generation, so a stale or misplaced block is seen.</summary>
    private static void Fill(Span<byte> page, int block, long generation)
    {
        for (var o = 0; o < page.Length; o += 16)
        {
            BinaryPrimitives.WriteInt64LittleEndian(page[o..], block);
            BinaryPrimitives.WriteInt64LittleEndian(page[(o + 8)..], generation ^ o);
        }
    }
}
