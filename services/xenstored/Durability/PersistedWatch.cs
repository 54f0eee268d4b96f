namespace Disagg.Xenstored.Durability;

/// <summary>A guest's watch as the journal keeps it, to be re-registered on its connection after a restart.</summary>
public sealed record PersistedWatch(string Path, string Token, bool Relative);
