namespace Disagg.Kernel.Core.Domains;

/// <summary>A domain's state as `xl list` shows it (r, b, p, s, c, d). Wire values: append-only.</summary>
public enum DomainState
{
    /// <summary>At least one vCPU is running or runnable.</summary>
    Running = 0,
    /// <summary>Every online vCPU waits for an event or timer.</summary>
    Blocked = 1,
    /// <summary>Held by the control domain (new domains start here).</summary>
    Paused = 2,
    /// <summary>The guest shut itself down; the shutdown reason says how. Waits for the toolstack.</summary>
    Shutdown = 3,
    /// <summary>Shut down with reason crash (shown as 'c').</summary>
    Crashed = 4,
    /// <summary>Being destroyed: no longer runs, resources going back.</summary>
    Dying = 5,
}
