using Disagg.Control.Messages;

namespace Disagg.Toolstack.Fault.Schedule;

/// <summary>Names of the fault kinds, which services each applies to, and what each asks a service to inject.</summary>
public static class FaultKinds
{
    /// <summary>Every kind with its command-line name, in the order `--faults` lists them.</summary>
    public static IReadOnlyList<(FaultKind Kind, string Name)> All { get; } =
    [
        (FaultKind.Kill, "kill"), (FaultKind.Stop, "stop"), (FaultKind.Segv, "segv"), (FaultKind.Swap, "swap"),
        (FaultKind.RingDelay, "ring-delay"), (FaultKind.RingDropNotify, "ring-drop-notify"), (FaultKind.RingSpuriousNotify, "ring-spurious-notify"),
        (FaultKind.CopyError, "copy-error"), (FaultKind.DiskEio, "disk-eio"), (FaultKind.JournalTear, "journal-tear"),
    ];

    public static string Name(this FaultKind kind) => All.FirstOrDefault(k => k.Kind == kind).Name ?? kind.ToString().ToLowerInvariant();

    public static FaultKind? Parse(string name) => All.FirstOrDefault(k => k.Name == name.ToLowerInvariant()) is { Name: not null } k ? k.Kind : null;

    /// <summary>Injected inside the service through its fault socket: needs a host started with --fault-injection.</summary>
    public static bool IsChannelFault(FaultKind kind) => kind >= FaultKind.RingDelay;

    /// <summary>Whether <paramref name="kind"/> can be injected into <paramref name="target"/> (a service name; qemu-dm-N counts as qemu-dm).</summary>
    public static bool AppliesTo(FaultKind kind, string target)
    {
        var service = FaultPlan.KindOf(target);
        return kind switch
        {
            FaultKind.RingDelay or FaultKind.RingDropNotify or FaultKind.RingSpuriousNotify or FaultKind.CopyError => service is "netback" or "blkback",
            FaultKind.DiskEio => service == "blkback",
            FaultKind.JournalTear => service == "xenstored",
            _ => true,
        };
    }

    /// <summary>What the service is asked to inject for a channel fault: the kind, how many, and a delay's length.</summary>
    public static (ChannelFaultKind Kind, int Count, int DelayMs) Channel(FaultKind kind) => kind switch
    {
        FaultKind.RingDelay => (ChannelFaultKind.RingDelay, 10, 100),
        FaultKind.RingDropNotify => (ChannelFaultKind.RingDropNotify, 3, 0),
        FaultKind.RingSpuriousNotify => (ChannelFaultKind.RingSpuriousNotify, 5, 0),
        FaultKind.CopyError => (ChannelFaultKind.CopyError, 1, 0),
        FaultKind.DiskEio => (ChannelFaultKind.DiskEio, 1, 0),
        FaultKind.JournalTear => (ChannelFaultKind.JournalTear, 1, 0),
        FaultKind.Segv => (ChannelFaultKind.Segv, 1, 0),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a process fault"),
    };

    /// <summary>Guest-visible I/O errors a fault against <paramref name="target"/> may cause (blk-verify's error lines).</summary>
    public static int GuestIoErrors(FaultKind kind, string target) =>
        FaultPlan.KindOf(target) == "blkback" && kind is FaultKind.DiskEio or FaultKind.CopyError ? Channel(kind).Count : 0;
}
