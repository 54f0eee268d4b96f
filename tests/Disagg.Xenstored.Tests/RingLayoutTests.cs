using System.Runtime.InteropServices;
using Disagg.Abi.Io;
using Disagg.Xenstored.Transport.Ring;

namespace Disagg.Xenstored.Tests;

/// <summary>The ring code's offsets are the ABI struct's, and the byte ring wraps and refuses lies.</summary>
public sealed class RingLayoutTests
{
    [Fact]
    public void OffsetsMatchXenstoreDomainInterface()
    {
        Assert.Equal(XenstoreRing.ReqConsOffset, (int)Marshal.OffsetOf<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.ReqCons)));
        Assert.Equal(XenstoreRing.ReqProdOffset, (int)Marshal.OffsetOf<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.ReqProd)));
        Assert.Equal(XenstoreRing.RspConsOffset, (int)Marshal.OffsetOf<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.RspCons)));
        Assert.Equal(XenstoreRing.RspProdOffset, (int)Marshal.OffsetOf<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.RspProd)));
        Assert.Equal(XenstoreRing.ServerFeaturesOffset, (int)Marshal.OffsetOf<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.ServerFeatures)));
        Assert.Equal(XenstoreRing.ConnectionOffset, (int)Marshal.OffsetOf<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.Connection)));
        Assert.Equal(XenstoreRing.ErrorOffset, (int)Marshal.OffsetOf<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.Error)));
        Assert.Equal(XenstoreRing.PageBytesUsed, (int)Marshal.SizeOf<XenstoreDomainInterface>());
    }

    [Fact]
    public void TheServersRingsAreTheRequestAndResponseHalvesOfThePage()
    {
        // Wrap-around, partial writes and hostile indices are ByteRing's (tests/Disagg.Ring.Tests/ByteRingTests);
        // here: each of our two rings is the right half of the page, with the right indices.
        var page = new byte[4096];
        var data = Enumerable.Range(1, 100).Select(i => (byte)i).ToArray();
        Assert.True(XenstoreRing.Responses(page).TryWrite(data, out var written));
        Assert.Equal(100, written);
        Assert.Equal(data, page.AsSpan(XenstoreRing.RspOffset, 100).ToArray());
        Assert.Equal(100u, XenstoreRing.Read(page, XenstoreRing.RspProdOffset));
        data.CopyTo(page, XenstoreRing.ReqOffset);
        XenstoreRing.Write(page, XenstoreRing.ReqProdOffset, 60);
        var read = new byte[100];
        Assert.True(XenstoreRing.Requests(page).TryRead(read, out var n));
        Assert.Equal(60, n);
        Assert.Equal(data[..60], read[..60]);
        Assert.Equal(60u, XenstoreRing.Read(page, XenstoreRing.ReqConsOffset));
    }

    [Fact]
    public void LyingIndicesAreRefused()
    {
        var page = new byte[4096];
        XenstoreRing.Write(page, XenstoreRing.ReqProdOffset, 1025);
        Assert.False(XenstoreRing.Requests(page).TryRead(new byte[16], out _));
        XenstoreRing.Write(page, XenstoreRing.RspConsOffset, 5000);
        Assert.False(XenstoreRing.Responses(page).TryWrite(new byte[16], out _));
    }
}
