using System.Text;
using Disagg.Toolstack.Daemon.Consoles;
using Disagg.Toolstack.Host;

namespace Disagg.Toolstack.Tests;

/// <summary>The daemon's pure parts: the console demultiplexer and the host config reader.</summary>
public sealed class DaemonPartsTests
{
    private static Dictionary<int, string> Demux(params string[] chunks)
    {
        var demux = new ConsoleDemux();
        var seen = new Dictionary<int, StringBuilder>();
        foreach (var c in chunks)
        {
            demux.Feed(Encoding.ASCII.GetBytes(c), (id, text) =>
            {
                if (!seen.TryGetValue(id, out var sb))
                {
                    seen[id] = sb = new StringBuilder();
                }

                sb.Append(Encoding.ASCII.GetString(text));
            });
        }

        return seen.ToDictionary(kv => kv.Key, kv => kv.Value.ToString());
    }

    [Fact]
    public void ConsoleDemuxRoutesGuestLinesAndDropsKernelLinesAcrossChunkBoundaries()
    {
        var seen = Demux("created domain 3\n(d3) hel", "lo\n(d1", "2) other\n(d) not a prefix\n(d3) prompt> ");
        Assert.Equal("hello\nprompt> ", seen[3]);
        Assert.Equal("other\n", seen[12]);
        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public void HostConfigReadsKeysAndNamesTheLineOfAnError()
    {
        var dir = Directory.CreateTempSubdirectory("dhc-").FullName;
        try
        {
            var good = Path.Combine(dir, "good.conf");
            File.WriteAllText(good, "# host\nmemory = \"2G\"\npcpus = 2\nservices = none\nservice.echo = /bin/echo ready now\n");
            var c = HostConfig.Read(good);
            Assert.Equal("2G", c.Memory);
            Assert.Equal(2, c.Pcpus);
            Assert.Empty(c.BuiltinServices!);
            var extra = Assert.Single(c.ExtraServices);
            Assert.Equal(("echo", "/bin/echo"), (extra.Name, extra.Program));
            Assert.Equal(["ready", "now"], extra.Arguments);

            var bad = Path.Combine(dir, "bad.conf");
            File.WriteAllText(bad, "memory = 1G\n\npcpus = lots\n");
            var e = Assert.Throws<HostConfigException>(() => HostConfig.Read(bad));
            Assert.Equal($"{bad}:3: pcpus 'lots' is not a number in 1..64", e.Message);
            File.WriteAllText(bad, "colour = blue\n");
            Assert.StartsWith($"{bad}:1: unknown key 'colour'", Assert.Throws<HostConfigException>(() => HostConfig.Read(bad)).Message, StringComparison.Ordinal);

            // netback's uplinks: one `--uplink BRIDGE=TAP[:MTU]` each, in file order.
            File.WriteAllText(good, "uplink.xenbr0 = dtap0\nuplink.br-lab = tap-lab:9000\n");
            Assert.Equal(["xenbr0=dtap0", "br-lab=tap-lab:9000"], HostConfig.Read(good).Uplinks);
            File.WriteAllText(bad, "uplink.xenbr0 = dtap0\nuplink.xenbr0 = dtap1\n");
            Assert.Equal($"{bad}:2: uplink.xenbr0 is given twice", Assert.Throws<HostConfigException>(() => HostConfig.Read(bad)).Message);
            File.WriteAllText(bad, "uplink.xenbr0 = a-tap-name-far-too-long\n");
            Assert.StartsWith($"{bad}:1: uplink.xenbr0 = 'a-tap-name-far-too-long': expected", Assert.Throws<HostConfigException>(() => HostConfig.Read(bad)).Message, StringComparison.Ordinal);
            File.WriteAllText(bad, "uplink.xenbr0 = dtap0:9\n");
            Assert.Equal($"{bad}:1: uplink.xenbr0: mtu '9' must be 68..65535", Assert.Throws<HostConfigException>(() => HostConfig.Read(bad)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
