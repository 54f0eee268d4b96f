using System.Text.RegularExpressions;
using Disagg.DomainImage;

namespace Disagg.Toolstack.Daemon.DeviceModels;

/// <summary>
/// qemu-dm's state files as an image's device model record (docs/SAVE-RESTORE.md, "HVM"): `qemu-dm-N.uart` (the
/// UART's registers and FIFO) and `qemu-dm-N.slotS.virtio` (a virtio-mmio transport, its queues and device), named
/// in the record without the `qemu-dm-N.` prefix so they go back under the restored domain's id. The files a
/// restarted qemu-dm reads are the whole format: there is no second one.
/// </summary>
internal static partial class DeviceModelStateFiles
{
    /// <summary>The state files of one domain's qemu-dm in <paramref name="dir"/> (none yet: an empty record, a fresh start).</summary>
    public static DeviceModelRecord Read(string dir, int domainId)
    {
        var prefix = $"qemu-dm-{domainId}.";
        var files = new List<DeviceModelFile>();
        if (Directory.Exists(dir))
        {
            foreach (var path in Directory.EnumerateFiles(dir, prefix + "*").Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path)[prefix.Length..];
                if (Known(name))
                {
                    files.Add(new DeviceModelFile(name, File.ReadAllBytes(path)));
                }
            }
        }

        return new DeviceModelRecord(DeviceModelRecord.QemuDm, files);
    }

    /// <summary>
    /// Refuses a record this toolstack's qemu-dm would not take (another device model, a file it does not keep),
    /// as the image's fault at <paramref name="index"/>, before anything is created.
    /// </summary>
    public static void Check(DeviceModelRecord record, int index)
    {
        if (record.Model != DeviceModelRecord.QemuDm)
        {
            throw new DomainImageException(DomainImageError.Malformed, ImageRecordKind.DeviceModel, index, $"device model '{record.Model}', this host runs {DeviceModelRecord.QemuDm}");
        }

        foreach (var f in record.Files)
        {
            if (!Known(f.Name))
            {
                throw new DomainImageException(DomainImageError.Malformed, ImageRecordKind.DeviceModel, index, $"a state file '{f.Name}' qemu-dm does not keep");
            }
        }
    }

    /// <summary>Writes the record's files for the domain's new qemu-dm (a checked record: the names cannot leave <paramref name="dir"/>).</summary>
    public static void Write(DeviceModelRecord record, string dir, int domainId)
    {
        Directory.CreateDirectory(dir);
        foreach (var f in record.Files)
        {
            File.WriteAllBytes(Path.Combine(dir, $"qemu-dm-{domainId}.{f.Name}"), f.Contents);
        }
    }

    private static bool Known(string name) => name == "uart" || SlotFile().IsMatch(name);

    [GeneratedRegex("^slot[0-7]\\.virtio$", RegexOptions.CultureInvariant)]
    private static partial Regex SlotFile();
}
