using System.Globalization;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>netback and blkback as built-in service domains, and where a guest's device directories go.</summary>
[Collection(BackendHostCollection.Name)]
public sealed class BackendServiceTests(BackendHost fixture)
{
    private readonly TestHost _host = fixture.Host;

    [Fact]
    public void NetbackAndBlkbackRunAsDomainsTwoAndThreeAfterXenstored()
    {
        foreach (var (name, domain) in new[] { ("xenstored", 1), ("netback", 2), ("blkback", 3) })
        {
            var row = _host.Service(name);
            Assert.Equal(domain, TestHost.Int(row, "domain_id"));
            Assert.Equal("running", row.GetProperty("state").GetString());
            Assert.True(TestHost.Alive(TestHost.Int(row, "pid")));
        }

        var cmdline = File.ReadAllText($"/proc/{TestHost.Int(_host.Service("blkback"), "pid")}/cmdline").Split('\0');
        Assert.Equal(["--xenstore", Path.Combine(_host.Dir, "xenstored.sock"), "--state-dir", Path.Combine(_host.Dir, "blkback")], cmdline[1..5]);
        var log = File.ReadAllText(Path.Combine(_host.Dir, "disagg.log"));
        var xenstored = log.IndexOf("service xenstored ready as domain 1", StringComparison.Ordinal);
        Assert.True(xenstored >= 0, log);
        Assert.True(log.IndexOf("service netback ready as domain 2", StringComparison.Ordinal) > xenstored, log);
        Assert.True(log.IndexOf("service blkback ready as domain 3", StringComparison.Ordinal) > xenstored, log);
    }

    [Fact]
    public void GuestDevicesLiveUnderTheBackendDomainsWithXenPermissionsAndGoOnDestroy()
    {
        var image = fixture.Image("devdirs.img");
        var cfg = TestGuest.WriteConfig(_host.GuestDir, "devdirs", "devdirs\n", TestGuest.End.Spin,
            $"disk = [ 'format=raw, vdev=xvda, access=rw, target={image}' ]\nvif = [ 'mac=00:16:3e:00:01:01, bridge=xenbr0' ]");
        _host.MustRun("create", cfg);
        var id = TestHost.Id(_host.Domain("devdirs")!.Value);
        var fe = $"/local/domain/{id}/device/vbd/51712";
        var be = $"/local/domain/3/backend/vbd/{id}/51712";
        Assert.Equal(be, _host.XsRead($"{fe}/backend"));
        Assert.Equal("3", _host.XsRead($"{fe}/backend-id"));
        Assert.Equal("51712", _host.XsRead($"{fe}/virtual-device"));
        Assert.Equal("disk", _host.XsRead($"{fe}/device-type"));
        Assert.Equal(image, _host.XsRead($"{be}/params"));
        Assert.Equal("raw", _host.XsRead($"{be}/format"));
        Assert.Equal("w", _host.XsRead($"{be}/mode"));
        Assert.Equal("xvda", _host.XsRead($"{be}/dev"));
        Assert.Equal(fe, _host.XsRead($"{be}/frontend"));
        Assert.Equal(id, _host.XsRead($"{be}/frontend-id"));
        Assert.Equal("1", _host.XsRead($"{be}/online"));
        // blkback found the directory, opened the image and offers the disk: InitWait, with its size published.
        Assert.True(Eventually.Holds(() => _host.XsRead($"{be}/state") == "2"), "backend state: " + _host.XsRead($"{be}/state") + " error: " + _host.XsRead($"{be}/error"));
        Assert.Equal((16 << 20) / 512, long.Parse(_host.XsRead($"{be}/sectors")!, CultureInfo.InvariantCulture));

        // Xen's permissions: the backend directory is the backend domain's and the guest reads it; the frontend's the other way round.
        Assert.Equal($"n3,r{id}", _host.XsPerms($"/local/domain/3/backend/vbd/{id}", "51712"));
        Assert.Equal($"n{id},r3", _host.XsPerms($"/local/domain/{id}/device/vbd", "51712"));
        Assert.Equal("2", _host.XsRead($"/local/domain/{id}/device/vif/0/backend-id"));
        Assert.Equal("00:16:3e:00:01:01", _host.XsRead($"/local/domain/2/backend/vif/{id}/0/mac"));
        Assert.Equal($"n2,r{id}", _host.XsPerms($"/local/domain/2/backend/vif/{id}", "0"));
        Assert.Equal($"n{id},r2", _host.XsPerms($"/local/domain/{id}/device/vif", "0"));
        Assert.Null(_host.XsRead($"/local/domain/0/backend/vbd/{id}/51712/state"));

        _host.MustRun("destroy", "devdirs");
        Assert.Null(_host.XsRead($"/local/domain/3/backend/vbd/{id}"));
        Assert.Null(_host.XsRead($"/local/domain/2/backend/vif/{id}"));
        Assert.Null(_host.XsRead(fe));
    }

    [Fact]
    public void AGuestMadeByDisaggNewBootsAndBlkbackOffersItsQcow2Disk()
    {
        var cfg = Path.Combine(_host.GuestDir, "made.cfg");
        var made = HostProcess.Run(RepoPaths.Program("disagg"), ["new", "made", "--kernel", Path.Combine(RepoPaths.Guests, "rv64", "pvos.elf"),
            "--memory", "16", "--disk-size", "32M", "--disk-format", "qcow2", "--bridge", "xenbr0", "--cmdline", "app=echo", "--output", cfg], TestHost.Bound);
        Assert.True(made.ExitCode == 0, made.ToString());
        _host.MustRun("create", cfg);
        var id = TestHost.Id(_host.Domain("made")!.Value);
        Assert.Equal(16, TestHost.Int(_host.Domain("made")!.Value, "mem_mib"));
        Assert.True(Eventually.Holds(() => _host.XsRead($"/local/domain/3/backend/vbd/{id}/51712/state") == "2"), "blkback error: " + _host.XsRead($"/local/domain/3/backend/vbd/{id}/51712/error"));
        Assert.Equal((32 << 20) / 512, long.Parse(_host.XsRead($"/local/domain/3/backend/vbd/{id}/51712/sectors")!, CultureInfo.InvariantCulture));
        Assert.Equal("xenbr0", _host.XsRead($"/local/domain/2/backend/vif/{id}/0/bridge"));
        Assert.True(Eventually.Holds(() => _host.ConsoleLog("made").Contains("Ctrl-D powers off", StringComparison.Ordinal)), _host.ConsoleLog("made"));
        _host.MustRun("destroy", "made");
    }
}
