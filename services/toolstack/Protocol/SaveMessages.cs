namespace Disagg.Toolstack.Protocol;

/// <summary>What becomes of the saved domain, as xl save's flags say. Wire values: append-only.</summary>
internal enum SaveAfter
{
    /// <summary>The default: the domain is destroyed once its image is complete.</summary>
    Destroy = 0,

    /// <summary>-c: the domain resumes where it was (its suspend returns "cancelled") and runs on.</summary>
    Running = 1,

    /// <summary>-p: resumed as with -c, but left paused.</summary>
    Paused = 2,
}

/// <summary>
/// save DOMAIN FILE [-c|-p]: Path is absolute (the CLI resolves it); a PV guest is given TimeoutSeconds to
/// suspend itself after control/shutdown = "suspend". The daemon sends <see cref="SaveProgress"/> messages
/// (same Id) while the image is written, then <see cref="SavedReply"/> or an ErrorReply.
/// </summary>
internal sealed record SaveRequest(string Domain, string Path, SaveAfter After, int TimeoutSeconds) : DaemonMessage;

/// <summary>restore FILE [-p] [--name N]: progress, then <see cref="RestoredReply"/> or an ErrorReply naming the refused record.</summary>
internal sealed record RestoreRequest(string Path, bool Paused, string? Name) : DaemonMessage;

/// <summary>A save or restore under way: its phase ("suspending", "writing", "reading", "devices") and bytes so far of about TotalBytes (0: unknown).</summary>
internal sealed record SaveProgress(string Phase, long Bytes, long TotalBytes) : DaemonMessage;

/// <summary>A save done: the image's size, the domain's memory, the whole time and the part spent waiting for the guest to suspend.</summary>
internal sealed record SavedReply(int DomainId, string Name, string Path, long Bytes, long MemoryBytes, long ElapsedMs, long SuspendMs, SaveAfter After) : DaemonMessage;

/// <summary>A restore done: the new domain's id and name.</summary>
internal sealed record RestoredReply(int DomainId, string Name, string Path, long Bytes, long ElapsedMs, bool Paused) : DaemonMessage;
