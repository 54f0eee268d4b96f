namespace Disagg.Toolstack.Fault;

/// <summary>The invariants a fault run checks, by the names its report uses.</summary>
internal static class Invariants
{
    public const string Storage = "storage: no acknowledged write lost, no block corrupted, no I/O error";
    public const string Network = "network: bounded loss window, no wedged link";
    public const string Xenstore = "xenstore: no acknowledged entry lost";
    public const string Guests = "guests alive: no crash, console heartbeat";
    public const string Services = "services: every faulted service serves again";
    public const string Leaks = "host: no leaked domains, event ports, grant maps or memory";

    public static IReadOnlyList<string> All { get; } = [Storage, Network, Xenstore, Guests, Services, Leaks];
}
