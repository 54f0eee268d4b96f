using System.Text.Json;

namespace Disagg.Toolstack.Tests;

/// <summary>block-attach/-detach/-list and network-attach/-detach/-list against the real daemon, xenstored, blkback and netback.</summary>
[Collection(BackendHostCollection.Name)]
public sealed class HotPlugTests(BackendHost fixture)
{
    private readonly TestHost _host = fixture.Host;

    private string Spinner(string name, string extra = "") =>
        TestGuest.WriteConfig(_host.GuestDir, name, name + "\n", TestGuest.End.Spin, extra);

    private List<JsonElement> Devices(string verb, string domain) => [.. _host.Json(verb, domain).EnumerateArray()];

    [Fact]
    public void BlockAttachInBothSpecFormsListsThenDetachRemovesTheDevice()
    {
        _host.MustRun("create", Spinner("plug"));
        var id = TestHost.Id(_host.Domain("plug")!.Value);
        Assert.Empty(Devices("block-list", "plug"));

        var raw = fixture.Image("plug-b.img");
        var attached = _host.MustRun("block-attach", "plug", $"format=raw, vdev=xvdb, access=rw, target={raw}");
        Assert.Contains("xvdb (vbd 51728) attached; backend domain 3 is InitWait", attached.StdOut, StringComparison.Ordinal);
        var qcow = fixture.Image("plug-c.qcow2", 32 << 20, qcow2: true);
        _host.MustRun("block-attach", "plug", $"{qcow},qcow2,xvdc,ro");

        var list = Devices("block-list", "plug");
        Assert.Equal([51728, 51744], list.Select(d => TestHost.Int(d, "devid")));
        Assert.Equal(["xvdb", "xvdc"], list.Select(d => d.GetProperty("name").GetString()));
        Assert.All(list, d => Assert.Equal(3, TestHost.Int(d, "backend_id")));
        Assert.All(list, d => Assert.Equal(2, TestHost.Int(d, "backend_state"))); // InitWait: blkback opened the image
        Assert.All(list, d => Assert.Equal(1, TestHost.Int(d, "state"))); // this guest has no blkfront
        Assert.Equal("r", _host.XsRead($"/local/domain/3/backend/vbd/{id}/51744/mode"));
        Assert.Equal("qcow2", _host.XsRead($"/local/domain/3/backend/vbd/{id}/51744/format"));
        var table = _host.MustRun("block-list", "plug").StdOut;
        Assert.Contains("Vdev", table, StringComparison.Ordinal);
        Assert.Contains($"/local/domain/3/backend/vbd/{id}/51728", table, StringComparison.Ordinal);

        var again = _host.Run("block-attach", "plug", $"format=raw, vdev=xvdb, target={raw}");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("domain 'plug': xvdb is already attached", again.StdErr, StringComparison.Ordinal);
        var missing = _host.Run("block-attach", "plug", $"format=raw, vdev=xvdd, target={raw}.absent");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains($"domain 'plug': disk target '{raw}.absent' does not exist", missing.StdErr, StringComparison.Ordinal);
        var badSpec = _host.Run("block-attach", "plug", "format=vmdk, vdev=xvdd, target=/x");
        Assert.Equal(1, badSpec.ExitCode);
        Assert.Contains("domain 'plug': disk 'format=vmdk, vdev=xvdd, target=/x': format 'vmdk' is not supported", badSpec.StdErr, StringComparison.Ordinal);

        // blkback refuses a raw file attached as qcow2 (no qcow2 header): the attach fails with its reason and leaves nothing.
        var refused = _host.Run("block-attach", "plug", $"format=qcow2, vdev=xvdd, target={raw}");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("domain 'plug': xvdd (vbd 51760): the backend (domain 3) refused it: ", refused.StdErr, StringComparison.Ordinal);
        Assert.Contains("nothing attached", refused.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, Devices("block-list", "plug").Count);
        Assert.Null(_host.XsRead($"/local/domain/3/backend/vbd/{id}/51760"));

        _host.MustRun("block-detach", "plug", "xvdb");
        Assert.Equal(["xvdc"], Devices("block-list", "plug").Select(d => d.GetProperty("name").GetString()));
        Assert.Null(_host.XsRead($"/local/domain/3/backend/vbd/{id}/51728"));
        Assert.Null(_host.XsRead($"/local/domain/{id}/device/vbd/51728"));
        _host.MustRun("block-detach", "plug", "51744"); // by number, as xl block-list shows it
        Assert.Empty(Devices("block-list", "plug"));
        var gone = _host.Run("block-detach", "plug", "xvdb");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("domain 'plug': has no vbd 'xvdb'", gone.StdErr, StringComparison.Ordinal);
        _host.MustRun("destroy", "plug");

        var noDomain = _host.Run("block-list", "nosuch");
        Assert.Equal(1, noDomain.ExitCode);
        Assert.Contains("domain 'nosuch': no such domain", noDomain.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void NetworkAttachListAndDetachByMac()
    {
        _host.MustRun("create", Spinner("netplug"));
        var id = TestHost.Id(_host.Domain("netplug")!.Value);
        var attached = _host.MustRun("network-attach", "netplug", "mac=00:16:3e:0a:0b:0c, bridge=xenbr0");
        Assert.Contains("vif 0 (00:16:3e:0a:0b:0c, bridge xenbr0) attached", attached.StdOut, StringComparison.Ordinal);
        _host.MustRun("network-attach", "netplug", "bridge=xenbr1");
        var list = Devices("network-list", "netplug");
        Assert.Equal([0, 1], list.Select(d => TestHost.Int(d, "devid")));
        Assert.Equal("00:16:3e:0a:0b:0c", list[0].GetProperty("name").GetString());
        Assert.StartsWith("00:16:3e:", list[1].GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.All(list, d => Assert.Equal(2, TestHost.Int(d, "backend_id")));
        Assert.Equal("xenbr1", _host.XsRead($"/local/domain/2/backend/vif/{id}/1/bridge"));
        var dup = _host.Run("network-attach", "netplug", "mac=00:16:3e:0a:0b:0c");
        Assert.Equal(1, dup.ExitCode);
        Assert.Contains("domain 'netplug': vif 0 already has mac 00:16:3e:0a:0b:0c", dup.StdErr, StringComparison.Ordinal);

        _host.MustRun("network-detach", "netplug", "00:16:3e:0a:0b:0c");
        Assert.Equal([1], Devices("network-list", "netplug").Select(d => TestHost.Int(d, "devid")));
        Assert.Null(_host.XsRead($"/local/domain/2/backend/vif/{id}/0"));
        _host.MustRun("network-detach", "netplug", "1");
        Assert.Empty(Devices("network-list", "netplug"));
        _host.MustRun("destroy", "netplug");
    }

    [Fact]
    public void AHotPluggedDiskComesBackWhenTheGuestIsRestarted()
    {
        _host.MustRun("create", Spinner("replug", "on_reboot = \"restart\""));
        var first = TestHost.Id(_host.Domain("replug")!.Value);
        _host.MustRun("block-attach", "replug", $"format=raw, vdev=xvdb, target={fixture.Image("replug.img")}");
        _host.MustRun("reboot", "-w", "replug");
        var second = TestHost.Id(_host.Domain("replug")!.Value);
        Assert.NotEqual(first, second);
        var list = Devices("block-list", "replug");
        Assert.Equal("xvdb", Assert.Single(list).GetProperty("name").GetString());
        Assert.Equal($"/local/domain/3/backend/vbd/{second}/51728", list[0].GetProperty("backend_path").GetString());
        Assert.Null(_host.XsRead($"/local/domain/3/backend/vbd/{first}"));
        _host.MustRun("destroy", "replug");
    }

    [Fact]
    public void EveryHotPlugVerbHasHelp()
    {
        foreach (var verb in new[] { "block-attach", "block-detach", "block-list", "network-attach", "network-detach", "network-list" })
        {
            var help = _host.MustRun(verb, "--help");
            Assert.Contains("Usage:", help.StdOut, StringComparison.Ordinal);
        }
    }
}
