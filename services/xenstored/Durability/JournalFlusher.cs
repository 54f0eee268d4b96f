using Microsoft.Win32.SafeHandles;

namespace Disagg.Xenstored.Durability;

/// <summary>
/// fdatasync of the journal off the request path. Replies wait only for the write(2) of their batch: that
/// is what survives our own death (SIGKILL, a crash), the failure a restartable service domain has, since
/// the page cache belongs to the host. The disk catches up here, one sync at a time; every batch written
/// while a sync runs is covered by the next one, so under load this costs one sync per disk latency, and
/// what a host crash can lose is the last few milliseconds (the guests that used it die with the host).
/// </summary>
internal sealed class JournalFlusher : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly AutoResetEvent _due = new(false);
    private readonly Thread _thread;
    private volatile bool _stopping;
    private long _syncs;
    private long _written;
    private long _synced;

    public JournalFlusher(SafeFileHandle file)
    {
        _file = file;
        _thread = new Thread(Run) { Name = "xenstored-fsync", IsBackground = true };
        _thread.Start();
    }

    /// <summary>fdatasyncs done.</summary>
    public long Syncs => Interlocked.Read(ref _syncs);

    /// <summary>The first sync that failed (the disk is gone or full): the owner stops loudly on it.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>A batch was written: sync it soon. Cheap while a sync is already due.</summary>
    public void Written()
    {
        Interlocked.Increment(ref _written);
        _due.Set();
    }

    /// <summary>Stops the thread, after a last sync of whatever was written since the previous one.</summary>
    public void Dispose()
    {
        _stopping = true;
        _due.Set();
        _thread.Join();
        _due.Dispose();
    }

    private void Run()
    {
        while (true)
        {
            if (!_stopping)
            {
                _due.WaitOne();
            }

            var written = Interlocked.Read(ref _written);
            if (written != _synced && Failure is null)
            {
                try
                {
                    Disagg.Interop.FileSync.DataSync(_file);
                    _synced = written;
                    Interlocked.Increment(ref _syncs);
                }
                catch (Disagg.Interop.InteropException e)
                {
                    Failure = e;
                }
            }
            else if (_stopping)
            {
                return; // everything written is synced (or the disk failed): done
            }
        }
    }
}
