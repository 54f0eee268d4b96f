namespace Disagg.Control.Messages;

/// <summary>
/// A fault a service injects into its own channels when its host was started with fault injection
/// (`disagg host up --fault-injection`; docs/FAULT-INJECTION.md). Wire values: append-only.
/// </summary>
public enum ChannelFaultKind
{
    /// <summary>The next notifications the service sends are held back for DelayMs before they go.</summary>
    RingDelay = 0,

    /// <summary>The next notifications the service sends are dropped: the peer must recover without them.</summary>
    RingDropNotify = 1,

    /// <summary>An event nobody sent: the service's data path is woken for its ports, and its peers are notified once more.</summary>
    RingSpuriousNotify = 2,

    /// <summary>The next grant copy reports GNTST_general_error although the kernel did it.</summary>
    CopyError = 3,

    /// <summary>blkback: the next write to a disk image fails with EIO (the guest sees that request fail, nothing else).</summary>
    DiskEio = 4,

    /// <summary>xenstored: the next journal write is cut short (a torn record) and the process kills itself.</summary>
    JournalTear = 5,

    /// <summary>A real SIGSEGV inside the process: native code touches an unmapped page (not a signal sent from outside).</summary>
    Segv = 6,
}
