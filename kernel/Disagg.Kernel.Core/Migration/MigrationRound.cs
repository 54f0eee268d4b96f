namespace Disagg.Kernel.Core.Migration;

/// <summary>What one migration round sent: records, pages and bytes, the pages dirtied meanwhile (the next round's size), its time.</summary>
public readonly record struct MigrationRound(int Records, long Pages, long Bytes, long DirtyNow, TimeSpan Elapsed);
