using Disagg.DomainImage;
using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Daemon.Save;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// A restore's check of an HVM image's device model record (docs/SAVE-RESTORE.md, "HVM"), before anything is
/// created: a record of another device model, or with a file qemu-dm does not keep, or garbled under a good
/// checksum, is refused naming the record; a good one comes back whole. No kernel, no guest.
/// </summary>
public sealed class HvmImageRefusalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hvm-image-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AQemuDmRecordComesBackWithItsFiles()
    {
        var record = GuestSaves.ReadDeviceModel(Image(new DeviceModelRecord(DeviceModelRecord.QemuDm, [new DeviceModelFile("uart", [1, 2]), new DeviceModelFile("slot7.virtio", [3])])))!;
        Assert.Equal(["uart", "slot7.virtio"], record.Files.Select(f => f.Name));
        Assert.Equal([3], record.Files[1].Contents);
    }

    [Theory]
    [InlineData("qemu-upstream/9", "uart", "device model 'qemu-upstream/9'")]
    [InlineData(DeviceModelRecord.QemuDm, "slot9.virtio", "a state file 'slot9.virtio' qemu-dm does not keep")]
    [InlineData(DeviceModelRecord.QemuDm, "lock", "a state file 'lock' qemu-dm does not keep")]
    public void AForeignDeviceModelRecordIsRefusedNamingIt(string model, string file, string why)
    {
        var e = Assert.Throws<ToolstackException>(() => GuestSaves.ReadDeviceModel(Image(new DeviceModelRecord(model, [new DeviceModelFile(file, [1])]))));
        Assert.Contains("record 7 (DeviceModel): Malformed", e.Message, StringComparison.Ordinal);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGarbledDeviceModelRecordIsRefusedNamingIt()
    {
        var path = Image(new DeviceModelRecord(DeviceModelRecord.QemuDm, [new DeviceModelFile("uart", new byte[64])]));
        var bytes = File.ReadAllBytes(path);
        bytes[^60] ^= 0x20; // inside the device model record's file bytes, before the end record
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ToolstackException>(() => GuestSaves.ReadDeviceModel(path));
        Assert.Contains("record 7 (DeviceModel): ChecksumMismatch", e.Message, StringComparison.Ordinal);
    }

    /// <summary>An HVM image of one vCPU and one zero page: header, domain, vCPU, zero run, events, grants, platform, device model, end.</summary>
    private string Image(DeviceModelRecord model)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.img");
        using var file = File.Create(path);
        var w = new DomainImageWriter(file);
        w.Write(new ImageHeader { Isa = ImageIsa.Rv64, Config = [] });
        w.Write(new DomainRecord { Name = "g", Vcpus = 1, MaxVcpus = 1, OnlineVcpus = 1, TargetPages = 1, MaxPages = 1, PageLimit = 1 });
        w.Write(new VcpuRecord { Index = 0, Started = true, X = new ulong[32], F = new ulong[32], Pc = 0x8020_0000, Privilege = 1 });
        w.WritePages(0x80000, 1, (_, page) => page.Clear());
        w.Write(new EventChannelsRecord([]));
        w.Write(new GrantTableRecord(1, new byte[4096]));
        w.Write(new HvmPlatformRecord { Sources = 95, Contexts = 1, Priority = new uint[96], SourceFlags = new byte[96], Enable = new uint[3], Threshold = new uint[1] });
        w.Write(model);
        w.Finish();
        return path;
    }
}
