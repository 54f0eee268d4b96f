namespace Disagg.Kernel.Cpu.Tests;

/// <summary>
/// A hart on 1 MiB of RAM at 0x8000_0000 with code at the base and a trap handler at
/// <see cref="Handler"/> that is just an ecall, so every guest trap comes back to the test as an SBI exit
/// whose sepc/scause/stval are in <see cref="Hart.Save"/>.
/// </summary>
internal sealed class TestMachine : IDisposable
{
    public const ulong Base = 0x8000_0000;
    public const ulong Handler = Base + 0x8000;
    public const ulong Data = Base + 0x10000;

    public TestMachine(IsaWidth isa, params uint[] code)
        : this(isa, HartEngine.Interpret, code)
    {
    }

    /// <summary>With <see cref="HartEngine.Translate"/>, every block is translated at its first execution.</summary>
    public TestMachine(IsaWidth isa, HartEngine engine, params uint[] code)
    {
        Ram = new ContiguousRam(Base, 1 << 20);
        Hart = new Hart(isa, Ram) { Pc = Base, Engine = engine, TranslateAfter = 0 };
        Load(Base, code);
        Load(Handler, Asm.Ecall);
        var s = Hart.Save();
        Hart.Restore(s with { Stvec = Handler });
    }

    public ContiguousRam Ram { get; }

    public Hart Hart { get; }

    public void Load(ulong address, params uint[] words)
    {
        var span = Ram.Span(address, words.Length * 4);
        for (var i = 0; i < words.Length; i++)
        {
            BitConverter.TryWriteBytes(span[(i * 4)..], words[i]);
        }
    }

    public void Load16(ulong address, params ushort[] parcels)
    {
        var span = Ram.Span(address, parcels.Length * 2);
        for (var i = 0; i < parcels.Length; i++)
        {
            BitConverter.TryWriteBytes(span[(i * 2)..], parcels[i]);
        }
    }

    public ulong ReadU64(ulong address) => BitConverter.ToUInt64(Ram.Span(address, 8));

    public uint ReadU32(ulong address) => BitConverter.ToUInt32(Ram.Span(address, 4));

    /// <summary>Runs until the next ecall from S-mode (the program's end, or a trap through the handler).</summary>
    public ExitReason Run(long max = 100_000)
    {
        var reason = Hart.Run(max);
        Assert.True(reason != ExitReason.SliceDone, $"program did not finish in {max} instructions, pc 0x{Hart.Pc:x}");
        return reason;
    }

    /// <summary>Runs and asserts the program trapped to the handler with this cause.</summary>
    public HartState RunToTrap(ulong cause)
    {
        Assert.Equal(ExitReason.SupervisorCall, Run());
        var s = Hart.Save();
        Assert.Equal(Handler, s.Pc);
        Assert.Equal(cause, s.Scause);
        return s;
    }

    public ulong X(int r) => Hart.GetX(r);

    public void Dispose() => Ram.Dispose();
}
