using System.Text.RegularExpressions;
using Disagg.Abi.Hypercalls;
using Disagg.Control.Messages;
using Disagg.TestSupport;

namespace Disagg.PvGuest.Tests;

/// <summary>
/// pvos's own network stack (guests/os/net) without any backend: app=net-selftest feeds crafted frames
/// to the stack inside the guest and checks every answer byte for byte (its own reference checksum,
/// not the stack's). Here each named check must report ok, and the tally must cover all of them.
/// </summary>
public abstract partial class NetStackTests(KernelHost host, GuestIsa isa)
{
    private static readonly string[] Checks =
    [
        "checksum-known-vector", "checksum-odd-length",
        "arp-reply-to-request-for-our-ip", "arp-learns-the-asker", "arp-no-reply-for-another-ip",
        "icmp-echo-reply", "ip-bad-checksum-dropped", "icmp-bad-checksum-dropped", "ip-length-beyond-frame-dropped",
        "ip-fragment-dropped", "frame-for-another-mac-ignored",
        "udp-delivery-to-bound-port", "udp-zero-checksum-accepted", "udp-bad-checksum-dropped", "udp-bind-twice-refused",
        "udp-unbound-port-unreachable", "udp-send", "short-frame-padded-with-zeros",
        "icmp-echo-request-sent", "icmp-echo-reply-delivered",
        "arp-request-for-unknown-neighbour", "arp-reply-releases-queued-datagram", "arp-gives-up-after-three-requests",
        "random-frames-survived",
    ];

    private int Width => isa == GuestIsa.Rv64 ? 64 : 32;

    private static readonly string[] NetfrontChecks =
    [
        "setup-rings-and-loopback-event-channel", "rx-buffers-posted", "rings-ask-for-events",
        "arp-round-trip-through-both-rings", "tx-grant-read-only", "tx-grant-ended-after-response",
        "backend-responses-raise-events", "rx-buffer-reposted", "burst-larger-than-the-rx-ring",
        "garbage-responses-counted-not-delivered", "tx-response-without-request-is-a-lie", "no-traffic-on-a-broken-ring",
        "old-grants-live-until-new-ones-exist", "reconnect-on-fresh-rings", "new-rings-share-no-ref-or-page-with-old", "old-ring-grants-ended", "traffic-after-reconnect", "rx-index-lie-stops-the-ring",
    ];

    [Fact]
    public async Task TheStackAnswersArpAndEchoDeliversUdpAndDropsWhatIsMalformed()
    {
        var log = await RunToPoweroffAsync("net-selftest", "app=net-selftest");
        AssertAllPassed("net-selftest", Checks, log);
        Assert.True(GarbageLine().IsMatch(log), log);
    }

    [Fact]
    public async Task NetfrontMovesFramesByGrantCopySurvivesALyingBackendAndReconnects()
    {
        var log = await RunToPoweroffAsync("netfront-selftest", "app=netfront-selftest");
        AssertAllPassed("netfront-selftest", NetfrontChecks, log);
    }

    private static void AssertAllPassed(string app, string[] checks, string log)
    {
        foreach (var check in checks)
        {
            Assert.True(log.Contains($"{app}: {check} ok\n", StringComparison.Ordinal), $"{check} did not pass:\n{log}");
        }

        Assert.DoesNotContain("FAILED", log, StringComparison.Ordinal);
        Assert.Contains($"{app}: {checks.Length} checks, 0 failed", log, StringComparison.Ordinal);
    }

    /// <summary>Boots pvos with the command line (plus domid=), waits for its poweroff, returns its log.</summary>
    private async Task<string> RunToPoweroffAsync(string name, string cmdline)
    {
        var image = await File.ReadAllBytesAsync(Path.Combine(RepoPaths.Guests, $"rv{Width}", "pvos.elf"));
        var spec = new CreateDomain($"{name}-rv{Width}", isa, 1, 1, 8192, 8192, 256, 0, [ulong.MaxValue], 0, 0);
        var id = (await host.Control.CallAsync<DomainCreated>(spec)).DomainId;
        await host.Control.CallAsync<OkReply>(new LoadKernel(id, image, null, $"{cmdline} domid={id}"));
        await host.Control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Unpause));
        var end = await WaitForEndAsync(id);
        var log = await LogAsync(id);
        await host.Control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Destroy));
        Assert.True(end.ShutdownReason == (int)ShutdownReason.Poweroff, log);
        return log;
    }

    private async Task<DomainEvent> WaitForEndAsync(int id)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            DomainEvent e;
            try
            {
                e = await host.Control.Events.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"domain {id} did not shut down in 30 s; its log:\n{await LogAsync(id)}");
            }

            if (e.DomainId == id && e.State is "s" or "c")
            {
                return e;
            }
        }
    }

    private async Task<string> LogAsync(int id)
    {
        var prefix = $"(d{id}) ";
        var lines = (await host.DmesgAsync()).Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[prefix.Length..]);
        return string.Join('\n', lines) + "\n";
    }

    [GeneratedRegex(@"net-selftest: garbage: \d+ answers sent; drops: \d+ runt")]
    private static partial Regex GarbageLine();
}

public sealed class NetStackRv64Tests(KernelHost host) : NetStackTests(host, GuestIsa.Rv64), IClassFixture<KernelHost>;

public sealed class NetStackRv32Tests(KernelHost host) : NetStackTests(host, GuestIsa.Rv32), IClassFixture<KernelHost>;
