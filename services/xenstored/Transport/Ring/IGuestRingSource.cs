using Disagg.Xenstored.Domains;

namespace Disagg.Xenstored.Transport.Ring;

/// <summary>
/// Where introduced domains' ring pages come from: the kernel's service channel (<see cref="KernelRingSource"/>)
/// or, for tests without a kernel, the hand-off socket (<see cref="RingHandoffListener"/>). Called on the loop thread.
/// </summary>
public interface IGuestRingSource
{
    /// <summary>
    /// True if XS_INTRODUCE of an attached domain maps and binds anew (the kernel: Xen re-binds the event channel
    /// on re-introduction), so the connection must let go of its current ring first.
    /// </summary>
    bool RebindsOnIntroduce { get; }

    /// <summary>
    /// XS_INTRODUCE, before the domain is recorded: a source that maps rings itself maps and checks the page and
    /// binds the event channel now, so that a wrong frame or port refuses the introduction (EINVAL, with the reason).
    /// </summary>
    bool TryPrepare(GuestDomain domain, out string reason);

    /// <summary>The mapped ring of <paramref name="domain"/>, if there is one to take now; the caller owns it.</summary>
    IGuestRing? TryTake(GuestDomain domain);
}
