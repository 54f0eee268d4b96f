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

    [Fact]
    public async Task TheStackAnswersArpAndEchoDeliversUdpAndDropsWhatIsMalformed()
    {
        var image = await File.ReadAllBytesAsync(Path.Combine(RepoPaths.Guests, $"rv{Width}", "pvos.elf"));
        var spec = new CreateDomain($"net-selftest-rv{Width}", isa, 1, 1, 8192, 8192, 256, 0, [ulong.MaxValue], 0, 0);
        var id = (await host.Control.CallAsync<DomainCreated>(spec)).DomainId;
        await host.Control.CallAsync<OkReply>(new LoadKernel(id, image, null, "app=net-selftest"));
        await host.Control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Unpause));

        var end = await WaitForEndAsync(id);
        var log = await LogAsync(id);
        Assert.True(end.ShutdownReason == (int)ShutdownReason.Poweroff, log);
        foreach (var check in Checks)
        {
            Assert.True(log.Contains($"net-selftest: {check} ok\n", StringComparison.Ordinal), $"{check} did not pass:\n{log}");
        }

        Assert.DoesNotContain("FAILED", log, StringComparison.Ordinal);
        Assert.Contains($"net-selftest: {Checks.Length} checks, 0 failed", log, StringComparison.Ordinal);
        var garbage = GarbageLine().Match(log);
        Assert.True(garbage.Success, log);
        await host.Control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Destroy));
    }

    private async Task<DomainEvent> WaitForEndAsync(int id)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var e = await host.Control.Events.ReadAsync(cts.Token);
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
