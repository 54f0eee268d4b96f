using System.Text.Json;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>`disagg new` without prompts: the config it writes, the image it creates (qemu-img judges), errors naming the field.</summary>
public sealed class NewCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dts-new-").FullName;

    private static string Pvos => Path.Combine(RepoPaths.Guests, "rv64", "pvos.elf");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ProcessResult Disagg(params string[] args) => HostProcess.Run(RepoPaths.Program("disagg"), args, TestHost.Bound);

    private static JsonElement QemuImgInfo(string path)
    {
        var r = HostProcess.Run("qemu-img", ["info", "--output=json", path], TestHost.Bound);
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.StdOut).RootElement.Clone();
    }

    [Fact]
    public void FlagsWriteAConfigCreateAcceptsAndAQcow2ImageOfTheAskedSize()
    {
        var cfg = Path.Combine(_dir, "web.cfg");
        var r = Disagg("new", "web", "--kernel", Pvos, "--vcpus", "2", "--memory", "64", "--disk-size", "64M", "--disk-format", "qcow2",
            "--bridge", "xenbr0", "--cmdline", "app=hello", "--output", cfg);
        Assert.True(r.ExitCode == 0, r.ToString());
        var image = Path.Combine(_dir, "web.qcow2");
        Assert.Contains($"wrote {cfg}; created {image} (qcow2, 64 MiB)", r.StdOut, StringComparison.Ordinal);

        var info = QemuImgInfo(image);
        Assert.Equal("qcow2", info.GetProperty("format").GetString());
        Assert.Equal(64L << 20, info.GetProperty("virtual-size").GetInt64());
        Assert.Equal(0, HostProcess.Run("qemu-img", ["check", image], TestHost.Bound).ExitCode);

        var dry = Disagg("create", "-n", cfg);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        var config = JsonDocument.Parse(dry.StdOut).RootElement;
        Assert.Equal("web", config.GetProperty("name").GetString());
        Assert.Equal(2, config.GetProperty("vcpus").GetInt32());
        Assert.Equal(64, config.GetProperty("memory").GetInt32());
        Assert.Equal(Pvos, config.GetProperty("kernel").GetString());
        Assert.Equal("app=hello", config.GetProperty("command_line").GetString());
        var disk = config.GetProperty("disks")[0];
        Assert.Equal("qcow2", disk.GetProperty("format").GetString());
        Assert.Equal(image, disk.GetProperty("target").GetString());
        Assert.Equal("xvda", disk.GetProperty("vdev").GetString());
        Assert.Equal("xenbr0", config.GetProperty("vifs")[0].GetProperty("bridge").GetString());
    }

    [Fact]
    public void ARawDiskIsASparseFileOfTheAskedSizeAndNoNetworkMeansNoVif()
    {
        var cfg = Path.Combine(_dir, "db.cfg");
        var disk = Path.Combine(_dir, "disks", "db-root.img");
        Directory.CreateDirectory(Path.GetDirectoryName(disk)!);
        var r = Disagg("new", "db", "--kernel", Pvos, "--disk-size", "1G", "--disk-format", "raw", "--disk", disk, "--bridge", "none", "--output", cfg);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(1L << 30, new FileInfo(disk).Length);
        var info = QemuImgInfo(disk);
        Assert.Equal("raw", info.GetProperty("format").GetString());
        Assert.Equal(1L << 30, info.GetProperty("virtual-size").GetInt64());
        Assert.True(info.GetProperty("actual-size").GetInt64() < 1 << 20, "not sparse: " + info);
        var config = JsonDocument.Parse(Disagg("create", "-n", cfg).StdOut).RootElement;
        Assert.Equal(0, config.GetProperty("vifs").GetArrayLength());
        Assert.Equal(1, config.GetProperty("vcpus").GetInt32());
        Assert.Equal(128, config.GetProperty("memory").GetInt32());
    }

    [Fact]
    public void ErrorsNameTheFieldAndWriteNothing()
    {
        var cfg = Path.Combine(_dir, "bad.cfg");
        void Fails(string field, params string[] args)
        {
            var r = Disagg(["new", .. args, "--output", cfg]);
            Assert.True(r.ExitCode == 1, r.ToString());
            Assert.Contains($"disagg new: {field}: ", r.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.StdErr, StringComparison.Ordinal);
            Assert.False(File.Exists(cfg));
        }

        Fails("kernel", "bad");
        Fails("name", "--kernel", Pvos);
        Fails("name", "12", "--kernel", Pvos);
        Fails("kernel", "bad", "--kernel", Path.Combine(_dir, "absent.elf"));
        Fails("kernel", "bad", "--kernel", "/etc/hostname");
        Fails("vcpus", "bad", "--kernel", Pvos, "--vcpus", "0");
        Fails("memory", "bad", "--kernel", Pvos, "--memory", "12x");
        Fails("disk-size", "bad", "--kernel", Pvos, "--disk-size", "lots");
        Fails("disk-format", "bad", "--kernel", Pvos, "--disk-size", "8M", "--disk-format", "vmdk");
        Fails("bridge", "bad", "--kernel", Pvos, "--bridge", "a-bridge-name-too-long");
        Assert.Empty(Directory.GetFiles(_dir));

        File.WriteAllText(cfg, "# mine\n");
        var exists = Disagg("new", "bad", "--kernel", Pvos, "--output", cfg);
        Assert.Equal(1, exists.ExitCode);
        Assert.Contains($"output: {cfg} exists (--force overwrites it)", exists.StdErr, StringComparison.Ordinal);
        Assert.Equal("# mine\n", File.ReadAllText(cfg));
    }

    [Fact]
    public void TheWizardInATerminalAsksForEachFieldAndAsksAgainAfterABadAnswer()
    {
        // A terminal from util-linux `script`; the answers are typed into it: name, type (Enter: pv, the first), kernel,
        // vcpus "0" (refused) then 2, memory (Enter: the default), disk size, disk format (arrow down to qcow2), bridge, confirm.
        var keys = $"wiz\n\r{Pvos}\n0\n2\n\n16M\n\u001b[B\rxenbr1\ny\n";
        var r = HostProcess.Run("sh", ["-c", $"cd '{_dir}' && script -qec '{RepoPaths.Program("disagg")} new' /dev/null"], TestHost.Bound, stdin: keys);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("'0' must be a number in 1..32", r.StdOut, StringComparison.Ordinal);
        var cfg = Path.Combine(_dir, "wiz.cfg");
        Assert.Contains($"wrote {cfg}", r.StdOut, StringComparison.Ordinal);
        var config = JsonDocument.Parse(Disagg("create", "-n", cfg).StdOut).RootElement;
        Assert.Equal(2, config.GetProperty("vcpus").GetInt32());
        Assert.Equal(128, config.GetProperty("memory").GetInt32());
        Assert.Equal("xenbr1", config.GetProperty("vifs")[0].GetProperty("bridge").GetString());
        var info = QemuImgInfo(Path.Combine(_dir, "wiz.qcow2"));
        Assert.Equal("qcow2", info.GetProperty("format").GetString());
        Assert.Equal(16L << 20, info.GetProperty("virtual-size").GetInt64());
    }
}
