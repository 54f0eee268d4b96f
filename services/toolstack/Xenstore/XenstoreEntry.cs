namespace Disagg.Toolstack.Xenstore;

/// <summary>One node the toolstack writes: a value, or a directory (Value null); Perms null inherits the parent's.</summary>
internal readonly record struct XenstoreEntry(string Path, string? Value, IReadOnlyList<string>? Perms = null);
