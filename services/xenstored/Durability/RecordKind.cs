namespace Disagg.Xenstored.Durability;

/// <summary>The operations a journal record or a snapshot holds. On-disk format: append-only, explicit values.</summary>
public enum RecordKind : byte
{
    PutNode = 1,
    RemoveSubtree = 2,
    Introduce = 3,
    Release = 4,
    SetTarget = 5,
    WatchAdd = 6,
    WatchRemove = 7,
    WatchReset = 8,
}
