namespace Disagg.DomainImage;

/// <summary>
/// One node of a saved domain's xenstore subtree: its path below /local/domain/ID, its value (null for a
/// directory written without one) and its permissions as xs_wire writes them ("n0", "r5", ...), which still
/// name the saved domain's id; <see cref="ToolstackState.Remap"/> re-homes them.
/// </summary>
public sealed record XenstoreNode(string Path, string? Value, IReadOnlyList<string> Perms);
