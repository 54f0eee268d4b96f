using Disagg.Interop;

namespace Disagg.Xenstored.Transport.Ring;

/// <summary>
/// A ring page shared with us as a memfd, with two eventfds standing for the event channel: the
/// guest rings <see cref="_kick"/>, we ring <see cref="_notify"/>. Signals arrive on the shared
/// epoll reactor thread, which only posts a kick to the loop.
/// </summary>
public sealed class MappedGuestRing : IGuestRing
{
    private readonly SharedMemorySegment _page;
    private readonly Doorbell _kick;
    private readonly Doorbell _notify;
    private readonly EpollReactor _reactor;
    private IDisposable? _registration;

    public MappedGuestRing(uint domainId, SharedMemorySegment page, Doorbell kick, Doorbell notify, EpollReactor reactor)
    {
        DomainId = domainId;
        _page = page;
        _kick = kick;
        _notify = notify;
        _reactor = reactor;
    }

    public uint DomainId { get; }

    public Span<byte> Page => _page.Span;

    public void Notify() => _notify.Ring();

    public void Listen(Action onKick)
    {
        _registration?.Dispose();
        _registration = _reactor.Register(_kick, onKick);
    }

    public void Dispose()
    {
        _registration?.Dispose();
        _page.Dispose();
        _kick.Dispose();
        _notify.Dispose();
    }
}
