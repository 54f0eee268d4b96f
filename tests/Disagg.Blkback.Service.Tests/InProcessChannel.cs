using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Service;
using Disagg.Interop;

namespace Disagg.Blkback.Service.Tests;

/// <summary>
/// The kernel's part of the data path, in process: a copy buffer, a grant table of frontend pages that
/// performs gnttab_copy with the kernel's checks (grant exists, offsets inside the page, buffer page inside the
/// buffer, read-only grants not written), event ports and a doorbell. Lets the request handling be tested
/// with real rings, real images and real threads, without a kernel.
/// </summary>
internal sealed unsafe class InProcessChannel : IBackendChannel, IDisposable
{
    private const int PageSize = 4096;
    private readonly byte* _buffer;
    private readonly ConcurrentDictionary<(int Domain, uint Ref), (nint Page, bool ReadOnly)> _grants = new();
    private readonly ConcurrentQueue<int> _pending = new();
    private readonly Doorbell _doorbell = new();
    private readonly ConcurrentDictionary<int, Doorbell> _frontends = new();

    public InProcessChannel(int bufferPages)
    {
        BufferPages = bufferPages;
        _buffer = (byte*)NativeMemory.AlignedAlloc((nuint)(bufferPages * PageSize), PageSize);
        new Span<byte>(_buffer, bufferPages * PageSize).Clear();
    }

    public int BufferPages { get; }

    public long Copies;

    private readonly short[] CopyStatuses = new short[96];
    private uint _copyProducer = 7; // not 0: the loop must not assume where the ring's free-running indices start

    public Span<byte> Buffer(int firstPage, int pages) => new(_buffer + ((long)firstPage * PageSize), pages * PageSize);

    public void Grant(int domain, uint gref, byte* page, bool readOnly = false) => _grants[(domain, gref)] = ((nint)page, readOnly);

    public void Revoke(int domain, uint gref) => _grants.TryRemove((domain, gref), out _);

    /// <summary>Our port <paramref name="port"/> rings <paramref name="frontend"/> when we notify on it.</summary>
    public void Connect(int port, Doorbell frontend) => _frontends[port] = frontend;

    /// <summary>The frontend notifies us on <paramref name="port"/>.</summary>
    public void Raise(int port)
    {
        _pending.Enqueue(port);
        _doorbell.Ring();
    }

    public int CopyRingEntries => CopyStatuses.Length;

    /// <summary>Copies are performed at submission (the loop's waits then find them done); statuses kept as the kernel's ring keeps them.</summary>
    public bool TrySubmitCopies(ReadOnlySpan<GrantCopy> ops, out uint end)
    {
        end = _copyProducer;
        if (ops.Length > CopyStatuses.Length)
        {
            return false;
        }

        foreach (var op in ops)
        {
            CopyStatuses[_copyProducer++ % (uint)CopyStatuses.Length] = (short)CopyOne(op);
            Interlocked.Increment(ref Copies);
        }

        end = _copyProducer;
        return true;
    }

    public bool CopiesDone(uint end) => (int)(_copyProducer - end) >= 0;

    /// <summary>Copies are done at submission: waiting for one never submitted is the loop's bug, not a slow kernel.</summary>
    public bool WaitForCopies(uint end, TimeSpan timeout) =>
        CopiesDone(end) ? true : throw new InvalidOperationException($"waiting for copies up to {end}, never submitted (submitted: {_copyProducer})");

    public short CopyStatus(uint index) => CopyStatuses[index % (uint)CopyStatuses.Length];

    public int TakePendingEvents(Span<int> ports)
    {
        var n = 0;
        while (n < ports.Length && _pending.TryDequeue(out var p))
        {
            ports[n++] = p;
        }

        return n;
    }

    public bool PrepareToSleep() => !_pending.IsEmpty;

    public Doorbell Doorbell => _doorbell;

    public void Notify(int port)
    {
        if (_frontends.TryGetValue(port, out var bell))
        {
            bell.Ring();
        }
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_buffer);
        _doorbell.Dispose();
    }

    private GrantStatus CopyOne(in GrantCopy op)
    {
        if (op.Len > PageSize || op.Source.Offset + op.Len > PageSize || op.Dest.Offset + op.Len > PageSize)
        {
            return GrantStatus.BadCopyArg;
        }

        var source = Resolve(op.Source, (op.Flags & GrantCopy.SourceGref) != 0, write: false, out var s);
        if (s != GrantStatus.Okay)
        {
            return s;
        }

        var dest = Resolve(op.Dest, (op.Flags & GrantCopy.DestGref) != 0, write: true, out s);
        if (s != GrantStatus.Okay)
        {
            return s;
        }

        System.Buffer.MemoryCopy(source + op.Source.Offset, dest + op.Dest.Offset, op.Len, op.Len);
        return GrantStatus.Okay;
    }

    private byte* Resolve(in GrantCopyPtr ptr, bool isGrant, bool write, out GrantStatus status)
    {
        status = GrantStatus.Okay;
        if (!isGrant)
        {
            if (ptr.DomId != DomainIds.Self || ptr.RefOrFrame >= (ulong)BufferPages)
            {
                status = GrantStatus.BadPage;
                return null;
            }

            return _buffer + ((long)ptr.RefOrFrame * PageSize);
        }

        if (ptr.RefOrFrame > uint.MaxValue || !_grants.TryGetValue((ptr.DomId, (uint)ptr.RefOrFrame), out var g))
        {
            status = GrantStatus.BadGntref;
            return null;
        }

        if (write && g.ReadOnly)
        {
            status = GrantStatus.PermissionDenied;
            return null;
        }

        return (byte*)g.Page;
    }
}
