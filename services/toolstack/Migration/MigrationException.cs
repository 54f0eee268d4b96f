namespace Disagg.Toolstack.Migration;

/// <summary>A migration failed (refused, the peer died, the stream broke): the guest stays where it was.</summary>
internal sealed class MigrationException(string reason) : Exception(reason);
