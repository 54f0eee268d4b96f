using Disagg.TestSupport;

namespace Disagg.Kernel.Tests;

public class RunElfTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GuestOutputReachesStdoutAndShutdownExitsZero(bool is64)
    {
        var elf = Kernel.WriteTemp(GuestImage.Printer(is64, "legacy putchar\n", "debug console\n", 0), $"printer{(is64 ? 64 : 32)}.elf");
        var r = Kernel.RunElf(elf, "--stats");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("legacy putchar\ndebug console\n", r.StdOut);
        Assert.Contains("stats: instructions", r.StdErr);
    }

    [Fact]
    public void SystemFailureReasonGivesANonZeroExit()
    {
        var elf = Kernel.WriteTemp(GuestImage.Printer(true, "x", "y", 1), "failure.elf");
        var r = Kernel.RunElf(elf);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("system failure", r.StdErr);
    }

    [Fact]
    public void ControlBytesReachStdoutUnchanged()
    {
        // The SBI console of run-elf is stdout itself, not the kernel's message log (which masks control bytes).
        var elf = Kernel.WriteTemp(GuestImage.Printer(true, "\u001b[1mbold\u001b[0m\n", "\ttab\u0007bell\n", 0), "control-bytes.elf");
        var r = Kernel.RunElf(elf);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("\u001b[1mbold\u001b[0m\n\ttab\u0007bell\n", r.StdOut);
    }

    [Fact]
    public void RebootRequestHasItsOwnExitCode()
    {
        var elf = Kernel.WriteTemp(GuestImage.Printer(true, "a\n", "b\n", 0, resetType: 1), "reboot.elf");
        var r = Kernel.RunElf(elf);
        Assert.True(r.ExitCode == 5, r.ToString());
        Assert.Contains("reboot", r.StdErr);
    }

    [Fact]
    public void StoppingTheOnlyHartEndsTheRunAsAFailure()
    {
        var elf = Kernel.WriteTemp(GuestImage.HartStopper(), "hart-stop.elf");
        var r = Kernel.RunElf(elf);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("hart_stop", r.StdErr);
    }

    [Theory]
    [InlineData("rv64/sbi-echo.elf")]
    [InlineData("rv32/sbi-echo.elf")]
    public void StdinReachesAGuestReadingTheSbiConsole(string guest)
    {
        // sbi-echo reads odd lines with legacy getchar and even ones with DBCN read, napping in WFI on the timer between polls.
        Assert.Contains(guest, GuestElfs.Find("sbi-echo.elf"));
        var r = HostProcess.Run(RepoPaths.Program("disagg-kernel"), ["run-elf", Path.Combine(RepoPaths.Guests, guest)], Kernel.Timeout, stdin: "hello\nworld\n.\n");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("sbi-echo ready\necho: HELLO\necho: WORLD\nsbi-echo done\n", r.StdOut);
    }

    [Fact]
    public void InstructionLimitHasItsOwnExitCode()
    {
        var elf = Kernel.WriteTemp(GuestImage.Spinner(), "spinner.elf");
        var r = Kernel.RunElf(elf, "--max-instructions", "100000");
        Assert.True(r.ExitCode == 4, r.ToString());
        Assert.Contains("instruction limit", r.StdErr);
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        var r = Kernel.RunElf("/nonexistent/guest.elf");
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains("cannot read", r.StdErr);
    }

    [Fact]
    public void GarbageIsNotAnElf()
    {
        var elf = Kernel.WriteTemp(new byte[300], "garbage.elf");
        var r = Kernel.RunElf(elf);
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains("not an ELF", r.StdErr);
    }

    [Fact]
    public void SegmentBeyondRamIsRejectedWithTheNumbers()
    {
        var elf = Kernel.WriteTemp(GuestImage.Elf(true, 0x8000_0000, [0x6F, 0, 0, 0], 8 << 20), "big.elf");
        var r = Kernel.RunElf(elf, "--mem", "4M");
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains("does not fit in RAM", r.StdErr);
        Assert.Contains("0x80400000", r.StdErr);
    }

    [Fact]
    public void TruncatedProgramHeadersAreRejected()
    {
        var image = GuestImage.Printer(true, "a", "b", 0);
        var elf = Kernel.WriteTemp(image[..70], "truncated.elf");
        var r = Kernel.RunElf(elf);
        Assert.True(r.ExitCode == 3, r.ToString());
    }

    [Fact]
    public void BadArgumentsPrintUsage()
    {
        var r = Kernel.RunElf("--isa", "rv128", "x.elf");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("usage:", r.StdErr);
    }

    [Theory]
    [InlineData("--engine", "jit")]
    [InlineData("--engine", "")]
    [InlineData("--translate-after", "-1")]
    [InlineData("--translate-after", "70000")]
    public void BadEngineArgumentsPrintUsage(string option, string value)
    {
        var r = Kernel.RunElf(option, value, "x.elf");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(option, r.StdErr);
    }
}
