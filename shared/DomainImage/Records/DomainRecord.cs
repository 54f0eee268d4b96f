using Disagg.DomainImage.Records;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// The domain as the kernel knows it: its sizes and scheduling parameters (what the restoring kernel creates
/// it with), and its life-cycle state at save time — a domain that had shut down is restored shut down.
/// </summary>
public sealed record DomainRecord
{
    /// <summary>The most vCPUs a domain has (the legacy shared_info limit); bounds the vCPU records.</summary>
    public const int MaxVcpuLimit = 32;

    public required string Name { get; init; }

    public required int Vcpus { get; init; }

    public required int MaxVcpus { get; init; }

    /// <summary>vCPUs online (vcpu-set) at save time.</summary>
    public required int OnlineVcpus { get; init; }

    /// <summary>The balloon target (memory=, mem-set), in pages.</summary>
    public required long TargetPages { get; init; }

    /// <summary>maxmem, in pages: the P2M's size.</summary>
    public required long MaxPages { get; init; }

    /// <summary>mem-max: how far the balloon may grow, in pages.</summary>
    public required long PageLimit { get; init; }

    public int Weight { get; init; } = 256;

    public int Cap { get; init; }

    /// <summary>The shutdown reason (Xen's SHUTDOWN_* value) if the domain had shut down, else -1.</summary>
    public int ShutdownReason { get; init; } = -1;

    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(10);
        w.Write(Name);
        w.Write(Vcpus);
        w.Write(MaxVcpus);
        w.Write(OnlineVcpus);
        w.Write(TargetPages);
        w.Write(MaxPages);
        w.Write(PageLimit);
        w.Write(Weight);
        w.Write(Cap);
        w.Write(ShutdownReason);
    }

    internal static DomainRecord Read(ref MessagePackReader r)
    {
        RecordFields.ExpectArray(ref r, 10, "domain");
        var d = new DomainRecord
        {
            Name = RecordFields.ReadString(ref r, "name", 256),
            Vcpus = RecordFields.ReadInt(ref r, "vcpus", 1, MaxVcpuLimit),
            MaxVcpus = RecordFields.ReadInt(ref r, "max vcpus", 1, MaxVcpuLimit),
            OnlineVcpus = RecordFields.ReadInt(ref r, "online vcpus", 0, MaxVcpuLimit),
            TargetPages = r.ReadInt64(),
            MaxPages = r.ReadInt64(),
            PageLimit = r.ReadInt64(),
            Weight = r.ReadInt32(),
            Cap = r.ReadInt32(),
            ShutdownReason = RecordFields.ReadInt(ref r, "shutdown reason", -1, 255),
        };
        if (d.Vcpus > d.MaxVcpus || d.OnlineVcpus > d.MaxVcpus || d.MaxPages < 1 || d.TargetPages < 0 || d.PageLimit < 0)
        {
            throw new MessagePackSerializationException($"domain sizes contradict each other: {d.Vcpus}/{d.MaxVcpus} vCPUs, {d.TargetPages}/{d.MaxPages} pages");
        }

        return d;
    }
}
