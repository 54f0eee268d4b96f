using Disagg.Abi.Io;
using Disagg.TestSupport.Netif;

namespace Disagg.Netback.Tests.EndToEnd;

/// <summary>
/// A frontend that lies (sizes, offsets, grant references, flags, ring indices) gets errors or is disconnected;
/// two honest frontends on the same bridge keep exchanging echoes throughout.
/// </summary>
public sealed class HostileFrontendTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private NetbackRig _host = null!;
    private NetfrontStation _a = null!;
    private NetfrontStation _b = null!;
    private ushort _seq;

    public async Task InitializeAsync()
    {
        _host = await NetbackRig.StartAsync();
        _a = await _host.AddStationAsync(10, "00:16:3e:00:00:0a", ip: "10.0.0.10");
        _b = await _host.AddStationAsync(11, "00:16:3e:00:00:0b", ip: "10.0.0.11");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task HonestPairStillTalksAsync()
    {
        var seq = ++_seq;
        _a.Send(Packets.Ping(_a.Mac, "10.0.0.10", _b.Mac, "10.0.0.11", seq));
        Assert.True(await _a.ReceiveAsync(f => Packets.IsEchoReply(f, seq), Patience) is not null, "the honest pair stopped talking\n" + _host.Netback.StdErr);
    }

    private static async Task<long> SettleAsync(NativeNetfront h, Func<NativeNetfront, long> counter, long expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (counter(h) < expected && DateTime.UtcNow < deadline)
        {
            h.ReapTx();
            await Task.Delay(10);
        }

        return counter(h);
    }

    [Fact]
    public async Task Bad_requests_get_error_responses_and_other_vifs_keep_flowing()
    {
        await using var h = await _host.AddFrontendAsync(13, "00:16:3e:00:00:0d");
        var mac = Frames.Mac("00:16:3e:00:00:0d");
        var good = Frames.Ethernet(_b.Mac, mac, 0x88b5, new byte[100]);
        await HonestPairStillTalksAsync();

        Assert.True(h.TrySend(Frames.Ethernet(_b.Mac, mac, 0x88b5, new byte[1600]))); // over the MTU (1500)
        Assert.True(h.TrySend(good, grefOverride: 4000));                               // a grant ref never granted
        Assert.True(h.TrySend(good[..60], offset: 4000, sizeOverride: 200));            // offset + size past the page
        Assert.True(h.TrySend(good, sizeOverride: 10));                                 // a runt size
        Assert.True(h.TrySend(good, sizeOverride: 60000));                              // a size far beyond its data
        Assert.True(h.TrySend(good, flags: NetifTxRequest.FlagMoreData));               // multi-slot: feature-sg was 0
        Assert.True(h.TrySend(good));                                                   // ... its last slot
        Assert.True(h.TrySend(good, flags: NetifTxRequest.FlagExtraInfo));              // extra info: not offered
        Assert.True(h.TrySend(good));                                                   // ... the "extra" slot: NETIF_RSP_NULL
        h.Flush();

        // Eight error responses: every bad request, and the multi-slot packet's last slot.
        Assert.Equal(8, await SettleAsync(h, f => f.TxErrors, 8));
        await HonestPairStillTalksAsync();
        var stats = await _host.VifStatusAsync(13, s => long.Parse(s["request_errors"]) + long.Parse(s["errors"]) >= 7);
        Assert.Equal("3", stats["errors"]);          // sizes: over the MTU, a runt, 60000
        Assert.Equal("4", stats["request_errors"]);  // grant, offset, more_data, extra_info
        Assert.Equal("connected", stats["state"]);

        // A good frame afterwards still goes through: errors are per request.
        Assert.True(h.TrySend(good));
        h.Flush();
        Assert.NotNull(await _b.ReceiveAsync(f => f.AsSpan(6, 6).SequenceEqual(mac), Patience));
    }

    [Fact]
    public async Task Garbage_ring_indices_disconnect_that_vif_only()
    {
        var h = await _host.AddFrontendAsync(13, "00:16:3e:00:00:0d");
        await using var _ = h;
        await HonestPairStillTalksAsync();
        unsafe
        {
            // req_prod (offset 0 of the shared ring) a long way past anything the backend consumed.
            Volatile.Write(ref *(uint*)h.TxRingPage, 0x8000_0123u);
        }

        h.Notify();
        await h.WaitForBackendAsync(XenbusState.Closing, Patience);
        var error = await h.ReadAsync(h.BackendPath + "/error");
        Assert.True(error?.StartsWith("ring fault", StringComparison.Ordinal) == true, $"error node: '{error}'\n{_host.Netback.StdErr}");
        await HonestPairStillTalksAsync();
        var stats = await _host.VifStatusAsync(13, s => s["state"] == "disconnected");
        Assert.Equal("disconnected", stats["state"]);
    }
}
