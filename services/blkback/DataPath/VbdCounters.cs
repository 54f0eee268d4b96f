namespace Disagg.Blkback.DataPath;

/// <summary>
/// What one device did. Written by the I/O loop only; read (racily, for logs and tests) by others.
/// Refusals are counted by kind, as STYLE.md's error rule asks for a frontend's bad input.
/// </summary>
internal sealed class VbdCounters
{
    public long Requests;
    public long Reads;
    public long Writes;
    public long Flushes;
    public long Discards;
    public long SectorsRead;
    public long SectorsWritten;
    public long Refused;
    public long CopyFailures;
    public long IoFailures;
    public long ResponsePushes;
    public long Notifications;
}
