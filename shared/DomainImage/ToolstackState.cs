using System.Buffers;
using System.Globalization;
using Disagg.DomainImage.Records;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// What the toolstack keeps of a domain in its image, carried as the header's config (docs/SAVE-RESTORE.md):
/// its configuration (the toolstack's own JSON: devices, lifecycle actions), where that came from, its uuid,
/// the domain id it had, and its xenstore subtree: the console and store nodes, memory/target, control/ and
/// data/ and whatever else the guest and the toolstack wrote there. A restore or a migration target re-homes
/// the subtree under the new domain id with its permissions remapped. A save and a migration stream write
/// the same bytes: encode once, decode at the other end before anything is created.
/// </summary>
public sealed record ToolstackState
{
    public const int CurrentVersion = 1;

    /// <summary>Nodes in one domain's subtree: xenstored's default quota per domain is 1000 entries.</summary>
    public const int MaxNodes = 4096;

    /// <summary>XENSTORE_ABS_PATH_MAX, and a value at most XENSTORE_PAYLOAD_MAX.</summary>
    private const int MaxPath = 3072;
    private const int MaxValue = 4096;
    private const int MaxPerms = 64;

    public required string ConfigJson { get; init; }

    public string ConfigPath { get; init; } = "";

    public string Uuid { get; init; } = "";

    /// <summary>The domain id the subtree's paths and permissions were written for.</summary>
    public int DomainId { get; init; }

    public IReadOnlyList<XenstoreNode> Xenstore { get; init; } = [];

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(6);
        w.Write(CurrentVersion);
        w.Write(ConfigJson);
        w.Write(ConfigPath);
        w.Write(Uuid);
        w.Write(DomainId);
        w.WriteArrayHeader(Xenstore.Count);
        foreach (var n in Xenstore)
        {
            w.WriteArrayHeader(3);
            w.Write(n.Path);
            if (n.Value is null)
            {
                w.WriteNil();
            }
            else
            {
                w.Write(n.Value);
            }

            w.WriteArrayHeader(n.Perms.Count);
            foreach (var p in n.Perms)
            {
                w.Write(p);
            }
        }

        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes the header's config; anything else than what <see cref="Encode"/> writes is refused naming the header record.</summary>
    public static ToolstackState Decode(byte[] config)
    {
        if (config.Length == 0)
        {
            throw Refused("the header carries no toolstack state (an image the kernel wrote without a toolstack)");
        }

        var r = new MessagePackReader(config);
        try
        {
            RecordFields.ExpectArray(ref r, 6, "toolstack state");
            var version = r.ReadInt32();
            if (version != CurrentVersion)
            {
                throw Refused($"toolstack state version {version}, this toolstack knows {CurrentVersion}");
            }

            var json = RecordFields.ReadString(ref r, "config", ImageHeader.MaxConfigBytes);
            var path = RecordFields.ReadString(ref r, "config path", 4096);
            var uuid = RecordFields.ReadString(ref r, "uuid", 64);
            var domid = RecordFields.ReadInt(ref r, "domain id", 0, ushort.MaxValue);
            var count = RecordFields.ReadCount(ref r, "xenstore", MaxNodes);
            var nodes = new XenstoreNode[count];
            for (var i = 0; i < count; i++)
            {
                RecordFields.ExpectArray(ref r, 3, "xenstore node");
                var node = RecordFields.ReadString(ref r, "xenstore path", MaxPath);
                string? value = r.TryReadNil() ? null : RecordFields.ReadString(ref r, "xenstore value", MaxValue);
                var permCount = RecordFields.ReadCount(ref r, "xenstore perms", MaxPerms);
                var perms = new string[permCount];
                for (var p = 0; p < permCount; p++)
                {
                    perms[p] = RecordFields.ReadString(ref r, "xenstore perm", 8);
                }

                if (node.Length == 0 || node[0] == '/' || node.Contains("..", StringComparison.Ordinal))
                {
                    throw new MessagePackSerializationException($"xenstore path '{node}' is not relative to the domain's directory");
                }

                nodes[i] = new XenstoreNode(node, value, perms);
            }

            if (!r.End)
            {
                throw new MessagePackSerializationException("bytes after the toolstack state");
            }

            return new ToolstackState { ConfigJson = json, ConfigPath = path, Uuid = uuid, DomainId = domid, Xenstore = nodes };
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            throw Refused(e.Message);
        }
    }

    /// <summary>
    /// A permission re-homed: "n5" / "r5" / "w5" / "b5" naming the saved domain name the new one; every other
    /// domain (0, the backends) keeps its id. Xen's libxl writes a restored domain's nodes afresh with its new id
    /// the same way.
    /// </summary>
    public static string Remap(string perm, int from, int to)
    {
        if (perm.Length >= 2 && int.TryParse(perm.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id == from)
        {
            return perm[0] + to.ToString(CultureInfo.InvariantCulture);
        }

        return perm;
    }

    private static DomainImageException Refused(string detail) =>
        new(DomainImageError.Malformed, ImageRecordKind.Header, 0, detail);
}
