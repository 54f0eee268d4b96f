namespace Disagg.Xenbus.Backend;

/// <summary>
/// What a freshly started backend does with a frontend it finds Connected (its predecessor was killed while
/// serving it): the one place the two kinds of device differ in the xenbus life cycle (docs/ARCHITECTURE.md §6).
/// </summary>
public enum RestartRule
{
    /// <summary>
    /// Map the same rings again and go on from the indices in the shared page (netback: a slot holds either a
    /// request or a response only at positions the indices say, so a dead backend's half-done work is harmless).
    /// </summary>
    ResumeRings = 1,

    /// <summary>
    /// Offer InitWait and connect only a ring the frontend has just initialised (blkback: an unanswered slot may
    /// hold a response the killed process wrote but never published; the frontend re-issues from its shadow).
    /// </summary>
    FreshRingOnly = 2,
}
