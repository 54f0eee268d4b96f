using System.Text;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Console;
using Disagg.Kernel.Core.Hypercalls;

namespace Disagg.Kernel.Core.Tests;

public class ConsoleAndVersionTests
{
    private const ulong Ram = 0x8000_0000;
    private readonly ArrayGuestMemory _mem = new(Ram, 8192, holeStart: Ram + 4096, holeEnd: Ram + 8192);

    private static string ReadAll(KernelMessageLog log, long from = 0)
    {
        var buf = new byte[log.Capacity];
        var n = log.Read(from, buf, out _, out _);
        return Encoding.UTF8.GetString(buf, 0, n);
    }

    [Fact]
    public void GuestTextIsPrefixedPerLineWithItsDomain()
    {
        var log = new KernelMessageLog();
        log.WriteKernel("kernel up");
        log.WriteGuest(5, "hel"u8);
        log.WriteGuest(7, "other\n"u8);
        log.WriteGuest(5, "lo\nworld\n"u8);
        Assert.Equal("kernel up\n(d5) hel(d7) other\nlo\n(d5) world\n", ReadAll(log));
    }

    [Fact]
    public void ConsoleIoWriteGoesToTheLogAndControlBytesAreMasked()
    {
        var log = new KernelMessageLog();
        Assert.True(_mem.TryCopyToGuest(Ram, "boot\u001b[2J ok\n"u8));
        Assert.Equal(0, ConsoleIoHypercall.Handle(log, 3, _mem, (uint)ConsoleIoOp.Write, 12, Ram));
        Assert.Equal("(d3) boot?[2J ok\n", ReadAll(log));
        Assert.Equal(-(long)XenErrno.EFAULT, ConsoleIoHypercall.Handle(log, 3, _mem, (uint)ConsoleIoOp.Write, 100, Ram + 4090));
        Assert.Equal(0, ConsoleIoHypercall.Handle(log, 3, _mem, (uint)ConsoleIoOp.Write, ulong.MaxValue, Ram)); // cut to 4096
        Assert.Equal(-(long)XenErrno.ENOSYS, ConsoleIoHypercall.Handle(log, 3, _mem, 9, 1, Ram));
    }

    [Fact]
    public void AFloodOverwritesOldTextAndReadersLearnWhatTheyMissed()
    {
        var log = new KernelMessageLog(capacity: 1024);
        for (var i = 0; i < 1000; i++)
        {
            log.WriteGuest(1, "0123456789\n"u8);
        }

        Assert.True(log.End > 1024);
        var buf = new byte[4096];
        var n = log.Read(0, buf, out var next, out var missed);
        Assert.Equal(1024, n);
        Assert.Equal(log.End - 1024, missed);
        Assert.Equal(log.End, next);
    }

    [Fact]
    public void ClearDropsOnlyWhatWasShownAndIsNotCountedAsMissed()
    {
        var log = new KernelMessageLog(capacity: 1024);
        log.WriteKernel("shown");
        var shownUpTo = log.End;
        log.WriteKernel("written after the read");
        log.Clear(shownUpTo);
        Assert.Equal("written after the read\n", ReadAll(log));

        var buf = new byte[64];
        log.Read(0, buf, out _, out var missed);
        Assert.Equal(0, missed);

        log.Clear(1); // never moves back
        log.Clear(long.MaxValue); // never past what was written
        Assert.Equal("", ReadAll(log));
        log.WriteKernel("later");
        Assert.Equal("later\n", ReadAll(log));
    }

    [Fact]
    public void XenVersionAnswersEveryQueryAndRefusesTheRest()
    {
        Assert.Equal((4 << 16) | 17, XenVersionHypercall.Handle(_mem, 0, Ram, rv64: true));
        Assert.Equal(0, XenVersionHypercall.Handle(_mem, 1, Ram, true));
        Assert.Equal("-disagg", Encoding.ASCII.GetString(_mem.Bytes, 0, 7));
        Assert.Equal(0, XenVersionHypercall.Handle(_mem, 3, Ram, false));
        Assert.StartsWith("xen-4.17-riscv32\0", Encoding.ASCII.GetString(_mem.Bytes, 0, 20), StringComparison.Ordinal);
        Assert.Equal(4096, XenVersionHypercall.Handle(_mem, 7, 0, true));
        Assert.Equal(-(long)XenErrno.EFAULT, XenVersionHypercall.Handle(_mem, 3, Ram + 4000, true));
        Assert.Equal(-(long)XenErrno.ENOSYS, XenVersionHypercall.Handle(_mem, 99, Ram, true));
    }
}
