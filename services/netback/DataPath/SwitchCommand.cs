using Disagg.Netback.Uplink;

namespace Disagg.Netback.DataPath;

/// <summary>
/// Work the xenbus side hands the switching thread between batches, so the thread owns every vif, bridge
/// and port without a lock. <see cref="Done"/> completes once the thread has applied it.
/// </summary>
public abstract class SwitchCommand
{
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Joins a connected vif to its bridge (created on demand) and starts serving its rings.</summary>
public sealed class AttachVif(Vif vif) : SwitchCommand
{
    public Vif Vif { get; } = vif;
}

/// <summary>Stops serving a vif; once done, its rings may be unmapped.</summary>
public sealed class DetachVif(Vif vif) : SwitchCommand
{
    public Vif Vif { get; } = vif;
}

/// <summary>Adds a TAP uplink to a bridge (created on demand).</summary>
public sealed class AttachUplink(TapUplink uplink) : SwitchCommand
{
    public TapUplink Uplink { get; } = uplink;
}

/// <summary>
/// Ends the hold of <see cref="SwitchLoop.HoldForwarding"/>: the start-up reconcile attached every vif xenstore
/// names, so frames queued in resumed rings can be switched to any of them.
/// </summary>
public sealed class StartForwarding : SwitchCommand
{
}
