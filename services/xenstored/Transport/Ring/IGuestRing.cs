namespace Disagg.Xenstored.Transport.Ring;

/// <summary>
/// A guest's xenstore ring page as mapped into this process, and its event channel. Whoever maps
/// it (today a hand-off socket, later the kernel's service interface) calls the kick action each
/// time the guest signals, from any thread.
/// </summary>
public interface IGuestRing : IDisposable
{
    uint DomainId { get; }

    /// <summary>The page (at least <see cref="XenstoreRing.PageBytesUsed"/> bytes), shared with the guest.</summary>
    Span<byte> Page { get; }

    /// <summary>Signals the guest's event channel.</summary>
    void Notify();

    /// <summary>Starts delivering the guest's signals to <paramref name="onKick"/>.</summary>
    void Listen(Action onKick);
}
