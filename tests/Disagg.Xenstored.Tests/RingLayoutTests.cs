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
    public void ResponsesWrapAroundTheEndAndIndicesRunFree()
    {
        var page = new byte[4096];
        XenstoreRing.Write(page, XenstoreRing.RspConsOffset, uint.MaxValue - 9); // indices about to overflow
        XenstoreRing.Write(page, XenstoreRing.RspProdOffset, uint.MaxValue - 9);
        var data = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        Assert.Equal(100, XenstoreRing.WriteResponses(page, data));
        Assert.Equal(89u, XenstoreRing.Read(page, XenstoreRing.RspProdOffset) - 1); // wrapped past 2^32
        var start = (int)((uint.MaxValue - 9) & 1023);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(data[i], page[1024 + ((start + i) & 1023)]);
        }

        Assert.Equal(924, XenstoreRing.WriteResponses(page, new byte[2000])); // only what fits
        Assert.Equal(0, XenstoreRing.WriteResponses(page, new byte[1]));
    }

    [Fact]
    public void LyingIndicesAreRefused()
    {
        var page = new byte[4096];
        XenstoreRing.Write(page, XenstoreRing.ReqProdOffset, 1025);
        Assert.Equal(-1, XenstoreRing.ReadRequests(page, new byte[16]));
        XenstoreRing.Write(page, XenstoreRing.RspConsOffset, 5000);
        Assert.Equal(-1, XenstoreRing.WriteResponses(page, new byte[16]));
    }
}
