namespace Disagg.Control.Messages;

/// <summary>
/// The dirty log's read-and-clear (Xen's XEN_DOMCTL_SHADOW_OP_CLEAN) for a domain whose log was started with
/// DomainCommand EnableDirtyLog. Replies <see cref="DirtyBitmap"/>.
/// </summary>
public sealed record CleanDirtyLog(int DomainId) : ControlMessage;

/// <summary>Bit i: RAM frame i was written since the last clean; bits past the RAM are the special pages.</summary>
public sealed record DirtyBitmap(byte[] Bitmap, long DirtyPages) : ControlMessage;

/// <summary>
/// One live-migration round of a domain, written by the kernel into the connected stream socket sent with the
/// request (one descriptor): Start (the dirty log begins; header, domain, all memory), Round (pages dirtied
/// since), Finish (the domain paused: last pages, state, end). <paramref name="FirstRecord"/> numbers the
/// round's records on from the previous ones. <paramref name="DeviceModelState"/> (Finish, HVM): the device model's
/// state, written after the platform record. Replies <see cref="MigrationRoundSent"/>.
/// </summary>
public sealed record MigrationSend(int DomainId, MigrationStage Stage, int FirstRecord, byte[] Config, byte[]? DeviceModelState = null) : ControlMessage;

public sealed record MigrationRoundSent(int Records, long Pages, long Bytes, long DirtyPages, long ElapsedNs) : ControlMessage;

/// <summary>
/// Reads a whole migration stream from the stream socket sent with the request (one descriptor) into a new
/// paused domain. Replies DomainCreated; a refused stream creates nothing.
/// </summary>
public sealed record MigrationReceive(string Name, int ConsoleBackendDomain, int XenstoreDomain) : ControlMessage;

/// <summary>
/// A digest of a paused domain's populated RAM (frame numbers and contents): a migration's source and target
/// compare theirs before the target may run the guest (`disagg migrate --verify`). Replies <see cref="MemoryHash"/>.
/// </summary>
public sealed record HashMemory(int DomainId) : ControlMessage;

public sealed record MemoryHash(ulong Hash, long Pages) : ControlMessage;

/// <summary>What <see cref="MigrationSend"/> asks. Wire values: append-only.</summary>
public enum MigrationStage
{
    Start = 0,
    Round = 1,
    Finish = 2,
}
