namespace Disagg.Kernel.Core.Ipc.Grants;

/// <summary>What grant copy needs to know of one domain: its grant table (if it grants) and its memory.</summary>
public sealed class GrantDomain(int domainId, GrantTable? table, IGuestFrames frames)
{
    public int DomainId { get; } = domainId;

    public GrantTable? Table { get; } = table;

    public IGuestFrames Frames { get; } = frames;
}
