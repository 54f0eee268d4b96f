using Disagg.TestSupport;

namespace Disagg.Kernel.Tests;

/// <summary>
/// Every ISA test program under guests/build (both widths) runs through run-elf and reports a pass via SRST,
/// on the interpreter and on the translator (every block translated at its first execution).
/// </summary>
public class IsaGuestTests
{
    private const string Missing = "(no isa-*.elf under guests/build)";

    public static TheoryData<string> IsaElfs()
    {
        var data = new TheoryData<string>();
        foreach (var elf in GuestElfs.Find("isa-*.elf"))
        {
            data.Add(elf);
        }

        if (data.Count == 0)
        {
            data.Add(Missing);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(IsaElfs))]
    public void IsaTestPasses(string elf)
    {
        Assert.True(elf != Missing, $"no ISA test ELFs found in {RepoPaths.Guests} (run `make guests`). {GuestElfs.Error}");
        var r = Kernel.RunElf(Path.Combine(RepoPaths.Guests, elf), "--engine", "interp", "--max-instructions", "2000000000");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Theory]
    [MemberData(nameof(IsaElfs))]
    public void IsaTestPassesOnTheTranslator(string elf)
    {
        Assert.True(elf != Missing, $"no ISA test ELFs found in {RepoPaths.Guests} (run `make guests`). {GuestElfs.Error}");
        var r = Kernel.RunElf(Path.Combine(RepoPaths.Guests, elf), "--engine", "translate", "--translate-after", "0", "--max-instructions", "2000000000");
        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
