using System.Buffers.Binary;
using System.Net.Sockets;
using Disagg.Interop;
using Disagg.Xenstored.Domains;

namespace Disagg.Xenstored.Transport.Ring;

/// <summary>
/// Receives guests' ring pages as file descriptors: one message per domain, a u32 domain id with
/// three fds (the page's memfd, the guest-to-us eventfd, the us-to-guest eventfd) over SCM_RIGHTS.
/// The tests' stand-in for the kernel (which maps guest frames for us through <see cref="KernelRingSource"/>):
/// only the user that runs xenstored can connect (mode 0600).
/// </summary>
public sealed class RingHandoffListener : IGuestRingSource, IDisposable
{
    private readonly System.Net.Sockets.Socket _listener;
    private readonly EpollReactor _reactor;
    private readonly Action<uint> _arrived;
    private readonly Dictionary<uint, IGuestRing> _waiting = [];
    private readonly Lock _waitingLock = new();
    private readonly CancellationTokenSource _stop = new();

    /// <param name="arrived">Called (from the hand-off thread) after a ring is waiting to be taken.</param>
    public RingHandoffListener(string path, EpollReactor reactor, Action<uint> arrived)
    {
        Path = path;
        _reactor = reactor;
        _arrived = arrived;
        if (File.Exists(path))
        {
            File.Delete(path);
        }

        _listener = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(16);
    }

    public string Path { get; }

    /// <summary>A re-introduced domain keeps the ring it was handed until its sender hands another.</summary>
    public bool RebindsOnIntroduce => false;

    /// <summary>Rings arrive whenever their sender hands them; nothing to check at introduction.</summary>
    public bool TryPrepare(GuestDomain domain, out string reason)
    {
        reason = "";
        return true;
    }

    public IGuestRing? TryTake(GuestDomain domain)
    {
        lock (_waitingLock)
        {
            return _waiting.Remove(domain.DomainId, out var ring) ? ring : null;
        }
    }

    public async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            System.Net.Sockets.Socket peer;
            try
            {
                peer = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => Serve(peer));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        File.Delete(Path);
        lock (_waitingLock)
        {
            foreach (var r in _waiting.Values)
            {
                r.Dispose();
            }

            _waiting.Clear();
        }
    }

    /// <summary>Hand-offs happen at domain start and after our restart: rare, so a blocking thread per peer is fine.</summary>
    private void Serve(System.Net.Sockets.Socket peer)
    {
        using (peer)
        {
            var buffer = new byte[4];
            while (true)
            {
                int n;
                FileDescriptor[] fds;
                try
                {
                    n = UnixRights.Receive(peer, buffer, out fds);
                }
                catch (Exception e) when (e is SocketException or InteropException)
                {
                    return;
                }

                if (n <= 0)
                {
                    return;
                }

                if (n != 4 || fds.Length != 3)
                {
                    foreach (var fd in fds)
                    {
                        fd.Dispose();
                    }

                    return; // not a hand-off: hang up on the peer
                }

                var domainId = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
                var ring = new MappedGuestRing(domainId, SharedMemorySegment.Map(fds[0], 1), new Doorbell(fds[1]), new Doorbell(fds[2]), _reactor);
                lock (_waitingLock)
                {
                    if (_waiting.Remove(domainId, out var stale))
                    {
                        stale.Dispose();
                    }

                    _waiting[domainId] = ring;
                }

                _arrived(domainId);
                peer.Send("OK\0\0"u8);
            }
        }
    }
}
