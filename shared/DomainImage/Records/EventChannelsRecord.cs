using Disagg.DomainImage.Records;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>The domain's event channel table: its bound ports. Pending and mask bits live in shared_info, which travels as memory.</summary>
public sealed record EventChannelsRecord(IReadOnlyList<EventChannelEntry> Ports)
{
    /// <summary>Two-level event channels on RV64 (64 x 64 ports): the most ports a table has.</summary>
    public const int MaxPorts = 4096;

    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(Ports.Count);
        foreach (var p in Ports)
        {
            w.WriteArrayHeader(6);
            w.Write(p.Port);
            w.Write(p.State);
            w.Write(p.Vcpu);
            w.Write(p.RemoteDomain);
            w.Write(p.RemotePort);
            w.Write(p.Virq);
        }
    }

    internal static EventChannelsRecord Read(ref MessagePackReader r)
    {
        var count = RecordFields.ReadCount(ref r, "ports", MaxPorts);
        var ports = new EventChannelEntry[count];
        for (var i = 0; i < count; i++)
        {
            RecordFields.ExpectArray(ref r, 6, "port");
            ports[i] = new EventChannelEntry(
                RecordFields.ReadInt(ref r, "port", 1, MaxPorts - 1),
                RecordFields.ReadInt(ref r, "state", 0, 255),
                RecordFields.ReadInt(ref r, "vcpu", 0, DomainRecord.MaxVcpuLimit - 1),
                RecordFields.ReadInt(ref r, "remote domain", 0, ushort.MaxValue),
                RecordFields.ReadInt(ref r, "remote port", 0, MaxPorts - 1),
                RecordFields.ReadInt(ref r, "virq", -1, 255));
        }

        return new EventChannelsRecord(ports);
    }
}
