using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;

namespace Disagg.TestSupport.Netif;

/// <summary>
/// A native frontend with a thread of its own, as a small host on the bridge: frames handed to <see cref="Send"/>
/// go out, received frames come in on <see cref="Received"/>, and with an IP address it answers ARP and ICMP echo
/// itself (so a Linux host can ping it through a TAP uplink).
/// </summary>
public sealed class NetfrontStation : IAsyncDisposable
{
    private readonly ConcurrentQueue<byte[]> _outbox = new();
    private readonly Channel<byte[]> _inbox = Channel.CreateUnbounded<byte[]>();
    private readonly Thread _thread;
    private readonly byte[] _mac;
    private readonly IPAddress? _ip;
    private volatile bool _stop;

    public NetfrontStation(NativeNetfront frontend, IPAddress? ip = null)
    {
        Frontend = frontend;
        _mac = Frames.Mac(frontend.Vif.Mac);
        _ip = ip;
        _thread = new Thread(Run) { Name = "netfront-" + frontend.Domain, IsBackground = true };
        _thread.Start();
    }

    public NativeNetfront Frontend { get; }

    public byte[] Mac => _mac;

    public ChannelReader<byte[]> Received => _inbox.Reader;

    public long Answered { get; private set; }

    public void Send(byte[] frame)
    {
        _outbox.Enqueue(frame);
        Frontend.Channel.Doorbell.Ring(); // wake our own thread out of its wait
    }

    /// <summary>The next received frame that <paramref name="match"/> accepts, or null after <paramref name="timeout"/>.</summary>
    public async Task<byte[]?> ReceiveAsync(Func<byte[], bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var f = await _inbox.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
                if (match(f))
                {
                    return f;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop = true;
        Frontend.Channel.Doorbell.Ring();
        _thread.Join();
        await Frontend.DisposeAsync().ConfigureAwait(false);
    }

    private void Run()
    {
        var pending = new List<byte[]>();
        while (!_stop)
        {
            var moved = Frontend.Receive(OnFrame);
            foreach (var a in pending)
            {
                _outbox.Enqueue(a);
            }

            pending.Clear();
            var sent = 0;
            while (_outbox.TryPeek(out var f) && Frontend.TrySend(f))
            {
                _outbox.TryDequeue(out _);
                sent++;
            }

            if (sent > 0)
            {
                Frontend.Flush();
            }

            moved += Frontend.ReapTx() + sent;
            if (moved == 0)
            {
                Frontend.Wait(TimeSpan.FromMilliseconds(_outbox.IsEmpty ? 50 : 1));
            }
        }

        void OnFrame(ReadOnlySpan<byte> frame)
        {
            if (_ip is not null && Frames.Answer(frame, _mac, _ip) is { } answer)
            {
                Answered++;
                pending.Add(answer);
            }

            _inbox.Writer.TryWrite(frame.ToArray());
        }
    }
}
