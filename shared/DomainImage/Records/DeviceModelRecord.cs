using System.Buffers;
using Disagg.DomainImage.Records;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// An HVM domain's device model state, opaque to the kernel (docs/SAVE-RESTORE.md, "HVM"): the files the device
/// model keeps so that a restarted process takes the devices back (qemu-dm's `qemu-dm-N.uart` and
/// `qemu-dm-N.slotS.virtio`), each named by what follows `qemu-dm-N.`. A restore hands them to the new domain's
/// device model under its own id, which then starts as after a restart: one format, not a second. The model
/// names who wrote them; the toolstack refuses a model or a file name it does not know.
/// </summary>
public sealed record DeviceModelRecord(string Model, IReadOnlyList<DeviceModelFile> Files)
{
    /// <summary>What qemu-dm's files are.</summary>
    public const string QemuDm = "disagg-qemu-dm/1";

    public const int MaxFiles = 16;

    /// <summary>A UART with its FIFO, a virtio transport with its queues: a few KiB; the bound stops a forged record making the host allocate.</summary>
    public const int MaxFileBytes = 64 * 1024;

    public const int MaxNameLength = 32;

    /// <summary>The record's bytes (for a control message: the kernel writes them into the image as they are).</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        Write(ref w);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes and checks <see cref="Encode"/>'s bytes; throws <see cref="MessagePackSerializationException"/> on anything else.</summary>
    public static DeviceModelRecord Decode(ReadOnlyMemory<byte> bytes)
    {
        var r = new MessagePackReader(bytes);
        var record = Read(ref r);
        return r.End ? record : throw new MessagePackSerializationException("bytes after the device model record");
    }

    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(2);
        w.Write(Model);
        w.WriteArrayHeader(Files.Count);
        foreach (var f in Files)
        {
            w.WriteArrayHeader(2);
            w.Write(f.Name);
            w.Write(f.Contents);
        }
    }

    internal static DeviceModelRecord Read(ref MessagePackReader r)
    {
        RecordFields.ExpectArray(ref r, 2, "device model");
        var model = RecordFields.ReadString(ref r, "device model", 64);
        if (model.Length == 0)
        {
            throw new MessagePackSerializationException("the device model is not named");
        }

        var count = RecordFields.ReadCount(ref r, "device model files", MaxFiles);
        var files = new DeviceModelFile[count];
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            RecordFields.ExpectArray(ref r, 2, "device model file");
            var name = RecordFields.ReadString(ref r, "device model file name", MaxNameLength);
            if (!DeviceModelFile.ValidName(name) || !names.Add(name))
            {
                throw new MessagePackSerializationException($"device model file name '{name}' (letters, digits, dots; not starting with a dot; once each)");
            }

            files[i] = new DeviceModelFile(name, RecordFields.ReadBytes(ref r, $"device model file {name}", MaxFileBytes));
        }

        return new DeviceModelRecord(model, files);
    }
}
