namespace Disagg.Toolstack.Host;

/// <summary>A service domain the host config adds (`service.NAME = PROGRAM ARGS...`): started, registered and supervised like the built-in ones.</summary>
internal sealed record ExtraService(string Name, string Program, IReadOnlyList<string> Arguments);
