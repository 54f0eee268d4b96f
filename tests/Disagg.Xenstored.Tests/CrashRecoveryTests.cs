using System.Collections.Concurrent;
using Disagg.Abi.Io;

namespace Disagg.Xenstored.Tests;

/// <summary>SIGKILL during a write load from several clients; torn journal tails.</summary>
public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task KilledXenstoredLosesNoAcknowledgedWrite()
    {
        // A small compaction threshold so snapshots (and their renames) happen during the load too.
        using var xs = new XenstoredProcess("--compact-bytes", "65536");
        using (var setup = xs.Connect())
        {
            setup.Write("/crash", "");
            setup.Call(XsMessageType.SetPerms, "/crash", "n0", "r4").Expect(XsMessageType.SetPerms);
        }

        var acked = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(c => Task.Run(() =>
        {
            try
            {
                using var client = xs.Connect();
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var key = $"/crash/c{c}/k{i}";
                    var value = $"value-{c}-{i}-" + new string('x', i % 64);
                    client.Write(key, value);
                    acked[key] = value; // only after the reply: the promise is about acknowledged writes
                    if (i % 10 == 0)
                    {
                        var tx = client.StartTransaction();
                        client.Write(key + "-tx", "t", tx);
                        if (client.CallTx(tx, XsMessageType.TransactionEnd, "T").Type == XsMessageType.TransactionEnd)
                        {
                            acked[key + "-tx"] = "t";
                        }
                    }
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                // the server died under us: expected
            }
        })).ToArray();

        while (acked.Count < 1500)
        {
            await Task.Delay(10);
        }

        xs.Kill();
        stop.Cancel();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(20));
        var snapshot = acked.ToArray();

        xs.Start();
        using var check = xs.Connect();
        foreach (var (key, value) in snapshot)
        {
            Assert.Equal(value, check.Read(key));
        }

        // Permissions of a key that was acknowledged (a writer may never have written its first key when the
        // thread pool started it late, so no fixed name is assumed): inherited from /crash, kept across the kill.
        Assert.Equal(["n0", "r4"], check.Call(XsMessageType.GetPerms, snapshot[0].Key).Strings);
        Assert.True(File.Exists(Path.Combine(xs.StateDirectory, "snapshot")), "the load should have crossed a compaction");
    }

    [Fact]
    public void TornJournalTailIsDroppedWholeAndServiceContinues()
    {
        using var xs = new XenstoredProcess();
        using (var c = xs.Connect())
        {
            c.Write("/keep/a", "1");
            c.Write("/keep/b", "2");
        }

        xs.Kill();
        var journal = Path.Combine(xs.StateDirectory, "journal");
        var good = new FileInfo(journal).Length;
        // A record whose length runs past the end (a write cut short by the crash).
        var bytes = File.ReadAllBytes(journal);
        var firstRecordLength = BitConverter.ToUInt32(bytes, 0) + 8;
        using (var f = File.Open(journal, FileMode.Append))
        {
            f.Write(bytes.AsSpan(0, (int)firstRecordLength - 3)); // a real record, minus its last bytes
        }

        xs.Start();
        Assert.Contains($"{firstRecordLength - 3} torn bytes dropped", xs.StdErr, StringComparison.Ordinal);
        Assert.Equal(good, new FileInfo(journal).Length);
        using (var c = xs.Connect())
        {
            Assert.Equal("1", c.Read("/keep/a"));
            Assert.Equal("2", c.Read("/keep/b"));
            c.Write("/keep/c", "3"); // new records follow the good prefix, not the garbage
        }

        xs.Kill();
        // A record with a flipped bit: CRC fails, it and everything after it are dropped.
        bytes = File.ReadAllBytes(journal);
        bytes[^2] ^= 0x40;
        File.WriteAllBytes(journal, bytes);
        xs.Start();
        using (var c = xs.Connect())
        {
            Assert.Equal("1", c.Read("/keep/a"));
            c.Call(XsMessageType.Read, "/keep/c").ExpectError("ENOENT");
        }
    }

    [Fact]
    public void SnapshotPlusJournalRestoresEverything()
    {
        using var xs = new XenstoredProcess("--compact-bytes", "4096");
        using (var c = xs.Connect())
        {
            for (var i = 0; i < 300; i++)
            {
                c.Write($"/s/{i % 7}/n{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            c.Call(XsMessageType.Rm, "/s/3").Expect(XsMessageType.Rm);
            c.Call(XsMessageType.SetPerms, "/s/1", "b2").Expect(XsMessageType.SetPerms);
            c.Call(XsMessageType.Introduce, "4", "77", "8").Expect(XsMessageType.Introduce);
        }

        Assert.True(File.Exists(Path.Combine(xs.StateDirectory, "snapshot")));
        xs.Restart();
        using var check = xs.Connect();
        Assert.Equal(["0", "1", "2", "4", "5", "6"], check.Call(XsMessageType.Directory, "/s").Strings);
        Assert.Equal("299", check.Read("/s/5/n299"));
        Assert.Equal(["b2"], check.Call(XsMessageType.GetPerms, "/s/1").Strings);
        Assert.Equal("T\0", check.Call(XsMessageType.IsDomainIntroduced, "4").Text);
    }
}
