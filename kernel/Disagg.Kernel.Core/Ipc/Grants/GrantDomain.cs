namespace Disagg.Kernel.Core.Ipc.Grants;

/// <summary>
/// What grant operations need to know of one domain: its grant table (if it grants) and its memory, and
/// how long both stay. Another domain's copy or map enters the domain first (<see cref="TryEnter"/>);
/// destruction closes it, which waits for the ones inside, so a copy in flight never touches memory that
/// is being freed. Two atomic operations per use; no lock.
/// </summary>
public sealed class GrantDomain(int domainId, GrantTable? table, IGuestFrames frames)
{
    private int _users;
    private volatile bool _closed;

    public int DomainId { get; } = domainId;

    public GrantTable? Table { get; } = table;

    public IGuestFrames Frames { get; } = frames;

    public bool IsClosed => _closed;

    /// <summary>False once the domain is closing: its table and frames may be going.</summary>
    public bool TryEnter()
    {
        Interlocked.Increment(ref _users);
        if (_closed)
        {
            Interlocked.Decrement(ref _users);
            return false;
        }

        return true;
    }

    public void Exit() => Interlocked.Decrement(ref _users);

    /// <summary>Turns new users away and waits for those inside to leave (each stays for one page copy or one map).</summary>
    public void Close()
    {
        _closed = true;
        Interlocked.MemoryBarrier();
        SpinWait.SpinUntil(() => Volatile.Read(ref _users) == 0);
    }
}
