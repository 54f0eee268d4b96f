using System.Runtime.InteropServices;
using Disagg.Abi.Io;
using Disagg.Interop;
using Disagg.Ring;

namespace Disagg.Blkback.Service.Tests;

/// <summary>
/// A blkif frontend in process for the data path tests: a ring page, data pages granted by reference
/// (ref = <see cref="FirstRef"/> + page index), and a doorbell the backend rings. Requests are built here and
/// pushed with ring.h's notification rule.
/// </summary>
internal sealed unsafe class RingFrontend : IDisposable
{
    public const uint FirstRef = 100;
    public const int PageSize = 4096;
    private readonly InProcessChannel _channel;
    private readonly int _port;

    public RingFrontend(InProcessChannel channel, int domain, int port, int dataPages)
    {
        _channel = channel;
        Domain = domain;
        _port = port;
        RingPage = (byte*)NativeMemory.AlignedAlloc(PageSize, PageSize);
        Ring = new FrontRing<BlkifRequest, BlkifResponse>($"test {domain}", RingPage, PageSize);
        Pages = (byte*)NativeMemory.AlignedAlloc((nuint)(dataPages * PageSize), PageSize);
        PageCount = dataPages;
        for (var i = 0; i < dataPages; i++)
        {
            channel.Grant(domain, FirstRef + (uint)i, Pages + (i * PageSize));
        }

        channel.Connect(port, Bell);
    }

    public int Domain { get; }

    public byte* RingPage { get; }

    public byte* Pages { get; }

    public int PageCount { get; }

    public FrontRing<BlkifRequest, BlkifResponse> Ring { get; }

    public Doorbell Bell { get; } = new();

    public Span<byte> Page(int i) => new(Pages + (i * PageSize), PageSize);

    /// <summary>The shared page's header, to lie about indices.</summary>
    public ref SharedRingHeader Shared => ref *(SharedRingHeader*)RingPage;

    public void Push()
    {
        if (Ring.PushRequests())
        {
            _channel.Raise(_port);
        }
    }

    public static BlkifRequest Request(BlkifOperation op, ulong id, long sector, params (int Page, int First, int Last)[] segments)
    {
        var r = new BlkifRequest { Operation = (byte)op, NrSegments = (byte)segments.Length, Id = id, SectorNumber = (ulong)sector };
        var segs = MemoryMarshal.Cast<byte, BlkifSegment>(new Span<byte>(r.Segments, BlkifRequest.MaxSegments * 8));
        for (var i = 0; i < segments.Length && i < BlkifRequest.MaxSegments; i++)
        {
            segs[i] = new BlkifSegment { Gref = FirstRef + (uint)segments[i].Page, FirstSect = (byte)segments[i].First, LastSect = (byte)segments[i].Last };
        }

        return r;
    }

    /// <summary>An indirect request whose descriptors are written into data page <paramref name="descriptorPage"/>.</summary>
    public BlkifRequest Indirect(BlkifOperation op, ulong id, long sector, int descriptorPage, params (int Page, int First, int Last)[] segments)
    {
        var d = MemoryMarshal.Cast<byte, BlkifSegment>(Page(descriptorPage));
        for (var i = 0; i < segments.Length; i++)
        {
            d[i] = new BlkifSegment { Gref = FirstRef + (uint)segments[i].Page, FirstSect = (byte)segments[i].First, LastSect = (byte)segments[i].Last };
        }

        var r = new BlkifRequestIndirect { Operation = (byte)BlkifOperation.Indirect, IndirectOp = (byte)op, NrSegments = (ushort)segments.Length, Id = id, SectorNumber = (ulong)sector };
        r.IndirectGrefs[0] = FirstRef + (uint)descriptorPage;
        return MemoryMarshal.Cast<BlkifRequestIndirect, BlkifRequest>(new Span<BlkifRequestIndirect>(ref r))[0];
    }

    public void Submit(params BlkifRequest[] requests)
    {
        foreach (var r in requests)
        {
            Ring.NextRequest() = r;
        }

        Push();
    }

    /// <summary>Waits for <paramref name="count"/> responses; fails the test on timeout.</summary>
    public List<BlkifResponse> Await(int count, TimeSpan? timeout = null)
    {
        var deadline = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        var got = new List<BlkifResponse>();
        while (got.Count < count)
        {
            while (got.Count < count && Ring.TryTakeResponse(out var rsp))
            {
                got.Add(rsp);
            }

            if (got.Count == count)
            {
                break;
            }

            if (!Ring.FinalCheckForResponses())
            {
                var left = deadline - Environment.TickCount64;
                Assert.True(left > 0, $"{got.Count} of {count} responses after the timeout");
                Bell.Wait(TimeSpan.FromMilliseconds(left));
            }
        }

        return got;
    }

    /// <summary>Submits one request and returns its status.</summary>
    public short Do(BlkifRequest request)
    {
        Submit(request);
        var rsp = Await(1)[0];
        Assert.Equal(request.Id, rsp.Id);
        Assert.Equal(request.Operation, rsp.Operation);
        return rsp.Status;
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(RingPage);
        NativeMemory.AlignedFree(Pages);
        Bell.Dispose();
    }
}
