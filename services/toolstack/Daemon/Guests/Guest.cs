using Disagg.Toolstack.Config;

namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>A guest the daemon created: its config (kept for on_reboot=restart), current domain id and what the kernel cannot tell us.</summary>
internal sealed class Guest
{
    public required string Name { get; init; }

    /// <summary>The config it was created from, plus devices hot-plugged since (a restart keeps them, as libxl does).</summary>
    public required DomainConfig Config { get; set; }

    public required string ConfigPath { get; init; }

    public int Id { get; set; }

    /// <summary>"rv32" or "rv64" once known (its kernel's ELF class at create, the offer's on a migration's arrival): what a migration offers, without its kernel file.</summary>
    public string? Isa { get; set; }

    /// <summary>The config's uuid, else one made at the first create and kept across restarts (/vm/UUID in xenstore).</summary>
    public string Uuid { get; set; } = "";

    /// <summary>When this domain id was created (Environment.TickCount64), for uptime.</summary>
    public long CreatedAtMs { get; set; }

    /// <summary>The scheduler parameters last set (the kernel has no query for them).</summary>
    public int Weight { get; set; }

    public int Cap { get; set; }

    /// <summary>An HVM guest's device model service (`qemu-dm-DOMID`) while its domain has one; null for PV guests.</summary>
    public string? DeviceModel { get; set; }

    /// <summary>Times of recent automatic restarts: a guest that reboots in a tight loop is stopped.</summary>
    public List<long> RecentRestartsMs { get; } = [];

    /// <summary>Completes when the current domain has shut down and its on_* action was carried out.</summary>
    public TaskCompletionSource Settled { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
