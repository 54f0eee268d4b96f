using System.Collections.Concurrent;

namespace Disagg.Interop;

/// <summary>
/// One thread that waits on many doorbells at once (epoll): a service with hundreds of rings
/// needs no thread per ring. Each registered doorbell's callback runs on the reactor thread
/// after its ring is consumed, so callbacks must be short (hand work to a Channel or a loop).
/// </summary>
public sealed unsafe class EpollReactor : IDisposable
{
    private readonly FileDescriptor _epoll;
    private readonly Doorbell _stop = new();
    private readonly ConcurrentDictionary<ulong, (Doorbell Bell, Action Callback)> _registered = new();
    private readonly Thread _thread;
    private long _nextKey = 1;
    private volatile bool _stopping;

    public EpollReactor(string name = "epoll-reactor")
    {
        _epoll = new FileDescriptor((int)InteropException.Check(Libc.EpollCreate1(Libc.EpollCloexec), "epoll_create1"));
        Add(_stop.Fd.Value, 0);
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public int Count => _registered.Count;

    /// <summary>Calls <paramref name="onRing"/> on the reactor thread each time <paramref name="bell"/> rings. Dispose the result to stop.</summary>
    public IDisposable Register(Doorbell bell, Action onRing)
    {
        var key = (ulong)Interlocked.Increment(ref _nextKey);
        _registered[key] = (bell, onRing);
        Add(bell.Fd.Value, key);
        return new Registration(this, key, bell);
    }

    /// <summary>Completes when <paramref name="bell"/> next rings (one-shot).</summary>
    public Task WaitAsync(Doorbell bell, CancellationToken cancel = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IDisposable? registration = null;
        registration = Register(bell, () =>
        {
            done.TrySetResult();
            registration?.Dispose();
        });
        if (bell.TryConsume())
        {
            done.TrySetResult();
            registration.Dispose();
        }

        cancel.Register(() =>
        {
            done.TrySetCanceled(cancel);
            registration.Dispose();
        });
        return done.Task;
    }

    public void Dispose()
    {
        _stopping = true;
        _stop.Ring();
        _thread.Join();
        _epoll.Dispose();
        _stop.Dispose();
    }

    private void Add(int fd, ulong key)
    {
        var ev = new Libc.EpollEvent { Events = Libc.EpollIn, Data = key };
        InteropException.Check(Libc.EpollCtl(_epoll.Value, Libc.EpollCtlAdd, fd, &ev), "epoll_ctl(ADD)");
    }

    private void Loop()
    {
        const int Batch = 64;
        var events = stackalloc Libc.EpollEvent[Batch];
        while (!_stopping)
        {
            var n = Libc.EpollWait(_epoll.Value, events, Batch, -1);
            if (n < 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == Libc.Eintr)
                {
                    continue;
                }

                throw new InteropException("epoll_wait", errno);
            }

            for (var i = 0; i < n; i++)
            {
                if (events[i].Data != 0 && _registered.TryGetValue(events[i].Data, out var entry))
                {
                    if (entry.Bell.TryConsume())
                    {
                        entry.Callback();
                    }
                }
            }
        }
    }

    private sealed class Registration(EpollReactor reactor, ulong key, Doorbell bell) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0 && reactor._registered.TryRemove(key, out _) && !bell.Fd.IsClosed)
            {
                Libc.EpollCtl(reactor._epoll.Value, Libc.EpollCtlDel, bell.Fd.Value, null);
            }
        }
    }
}
