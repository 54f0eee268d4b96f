using System.Text;
using Disagg.Abi.Boot;
using Disagg.Kernel.Core.Domains;

namespace Disagg.Kernel.Core.Tests;

public unsafe class PvLayoutTests
{
    [Fact]
    public void SpecialPagesSitBelowRamAndDoNotOverlapIt()
    {
        Assert.True(PvLayout.SpecialAddress(PvLayout.SpecialPages) <= PvLayout.RamBase);
        Assert.True(PvLayout.IsSpecialFrame(PvLayout.SpecialFrame(PvLayout.XenstorePage)));
        Assert.False(PvLayout.IsSpecialFrame(PvLayout.RamFirstFrame));
        Assert.False(PvLayout.IsSpecialFrame(PvLayout.SpecialFirstFrame - 1));
        Assert.Equal(PvLayout.FirstGrantPage + PvLayout.MaxGrantFrames, PvLayout.SpecialPages);
    }

    [Fact]
    public void StartInfoNamesEveryPageAndChannel()
    {
        var info = new StartInfo();
        StartInfoWriter.Write(&info, rv64: false, ramPages: 16384, consoleEvtchn: 1, storeEvtchn: 2, "app=hello", 0, 0);
        Assert.Equal("xen-4.17-riscv32", Encoding.ASCII.GetString(new ReadOnlySpan<byte>(info.Magic, 16)));
        Assert.Equal(0, info.Magic[16]);
        Assert.Equal(16384UL, info.NrPages);
        Assert.Equal(0x7FF0_1000UL, info.SharedInfo);
        Assert.Equal(0x7FF02UL, info.ConsoleMfn);
        Assert.Equal(0x7FF03UL, info.StoreMfn);
        Assert.Equal((1u, 2u), (info.ConsoleEvtchn, info.StoreEvtchn));
        Assert.Equal("app=hello", Encoding.ASCII.GetString(new ReadOnlySpan<byte>(info.CmdLine, 9)));
        Assert.Equal(0, info.CmdLine[9]);
    }

    [Fact]
    public void AnOverlongCommandLineIsCutAndStillTerminated()
    {
        var info = new StartInfo();
        StartInfoWriter.Write(&info, true, 1, 1, 2, new string('x', 5000), 0, 0);
        Assert.Equal((byte)'x', info.CmdLine[StartInfo.CommandLineLength - 2]);
        Assert.Equal(0, info.CmdLine[StartInfo.CommandLineLength - 1]);
    }
}
