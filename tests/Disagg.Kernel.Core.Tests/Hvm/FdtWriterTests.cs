using Disagg.Kernel.Core.Hvm.Fdt;

namespace Disagg.Kernel.Core.Tests.Hvm;

public sealed class FdtWriterTests
{
    [Fact]
    public void NodesAndPropertiesReadBackWithSharedNames()
    {
        var w = new FdtWriter();
        w.BeginNode("");
        w.U32("#address-cells", 2);
        w.BeginNode("a@1");
        w.Strings("compatible", "x,y", "z");
        w.U64("reg", 0x8000_0000, 0x1234_5678_9abc);
        w.Empty("flag");
        w.U32("#address-cells", 1);
        w.EndNode();
        w.BeginNode("b");
        w.Property("odd", [1, 2, 3]);
        w.EndNode();
        w.EndNode();
        var blob = w.Finish(bootCpu: 3);

        var root = FdtReader.Parse(blob, out var bootCpu);
        Assert.Equal(3u, bootCpu);
        Assert.Equal("", root.Name);
        Assert.Equal([2u], root.Cells("#address-cells"));
        var a = root.Child("a@1");
        Assert.Equal(["x,y", "z"], a.StringList("compatible"));
        Assert.Equal([0x8000_0000UL, 0x1234_5678_9abcUL], a.Pairs("reg"));
        Assert.Empty(a.Properties["flag"]);
        Assert.Equal([1u], a.Cells("#address-cells"));
        Assert.Equal([1, 2, 3], root.Child("b").Properties["odd"]);

        // "#address-cells" is stored once in the strings block although two nodes use it.
        var stringsSize = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(32));
        Assert.Equal("#address-cells\0compatible\0reg\0flag\0odd\0".Length, (int)stringsSize);
    }

    [Fact]
    public void UnbalancedOrMisplacedWritesAreRefused()
    {
        var w = new FdtWriter();
        Assert.Throws<InvalidOperationException>(() => w.EndNode());
        Assert.Throws<InvalidOperationException>(() => w.U32("x", 1));
        Assert.Throws<InvalidOperationException>(() => w.BeginNode("notroot"));
        w.BeginNode("");
        Assert.Throws<ArgumentException>(() => w.BeginNode("bad\0name"));
        Assert.Throws<ArgumentException>(() => w.Strings("s", "a\0b"));
        Assert.Throws<ArgumentException>(() => w.BeginNode("ünicode"));
        w.BeginNode("open");
        Assert.Throws<InvalidOperationException>(() => w.Finish());
    }

    [Fact]
    public void AFinishedTreeTakesNoMore()
    {
        var w = new FdtWriter();
        w.BeginNode("");
        w.EndNode();
        w.Finish();
        Assert.Throws<InvalidOperationException>(() => w.BeginNode(""));
        Assert.Throws<InvalidOperationException>(() => w.Finish());
    }
}
