namespace Disagg.Kernel.Cpu.Tests;

/// <summary>
/// A load or store a device model answers later parks the hart (ExitReason.MmioPending) with the access not
/// retired; CompleteMmio puts the load's value in rd and steps the pc; running again without it re-issues the
/// access. Both engines: translated blocks leave to the interpreter on the TLB miss every MMIO access is.
/// </summary>
public sealed class MmioParkTests
{
    private const ulong Device = 0x1000_0000;

    [Theory]
    [InlineData(HartEngine.Interpret)]
    [InlineData(HartEngine.Translate)]
    public void AParkedLoadLandsInRdSignExtendedAndThePcSteps(HartEngine engine)
    {
        // a0 = 0x1000_0000; lw a1, 4(a0); addi a2, a1, 1; ecall
        using var m = new DeviceMachine(engine, Asm.Lui(10, 0x1000_0000), Asm.Lw(11, 10, 4), Asm.Addi(12, 11, 1), Asm.Ecall);
        Assert.Equal(ExitReason.MmioPending, m.Hart.Run(1000));
        Assert.Equal(TestMachine.Base + 4, m.Hart.Pc);
        Assert.Equal(new MmioAccess(Device + 4, 4, false, 0), m.Hart.ParkedMmio);
        Assert.Equal(1UL, m.Hart.InstructionsRetired); // the lui only
        m.Hart.CompleteMmio(0xFFFF_FFF0);
        Assert.Null(m.Hart.ParkedMmio);
        Assert.Equal(TestMachine.Base + 8, m.Hart.Pc);
        Assert.Equal(0xFFFF_FFFF_FFFF_FFF0UL, m.Hart.GetX(11));
        Assert.Equal(ExitReason.SupervisorCall, m.Hart.Run(1000));
        Assert.Equal(0xFFFF_FFFF_FFFF_FFF1UL, m.Hart.GetX(12));
        Assert.Equal(1, m.Memory.Reads);
    }

    [Theory]
    [InlineData(HartEngine.Interpret)]
    [InlineData(HartEngine.Translate)]
    public void AParkedStoreCarriesItsValueAndCompletesWithoutTouchingRegisters(HartEngine engine)
    {
        // a0 = 0x1000_0000; a1 = 0x41; sw a1, 0(a0); ecall
        using var m = new DeviceMachine(engine, Asm.Lui(10, 0x1000_0000), Asm.Addi(11, 0, 0x41), Asm.Sw(11, 10, 0), Asm.Ecall);
        Assert.Equal(ExitReason.MmioPending, m.Hart.Run(1000));
        Assert.Equal(new MmioAccess(Device, 4, true, 0x41), m.Hart.ParkedMmio);
        m.Hart.CompleteMmio(0xDEAD);
        Assert.Equal(0x41UL, m.Hart.GetX(11));
        Assert.Equal(ExitReason.SupervisorCall, m.Hart.Run(1000));
        Assert.Equal(TestMachine.Base + 12, m.Hart.Pc);
    }

    [Fact]
    public void RunningAgainWithoutAnAnswerIssuesTheAccessAgain()
    {
        using var m = new DeviceMachine(HartEngine.Interpret, Asm.Lui(10, 0x1000_0000), Asm.Ld(11, 10, 8), Asm.Ecall);
        Assert.Equal(ExitReason.MmioPending, m.Hart.Run(1000));
        Assert.Equal(ExitReason.MmioPending, m.Hart.Run(1000));
        Assert.Equal(2, m.Memory.Reads);
        Assert.Equal(TestMachine.Base + 4, m.Hart.Pc);
        m.Hart.CompleteMmio(0x1234_5678_9ABC_DEF0);
        Assert.Equal(0x1234_5678_9ABC_DEF0UL, m.Hart.GetX(11));
        Assert.Throws<InvalidOperationException>(() => m.Hart.CompleteMmio(0));
    }

    [Fact]
    public void AMisalignedDeviceAccessIsAnAccessFaultAndNeverReachesTheDevice()
    {
        using var m = new DeviceMachine(HartEngine.Interpret, Asm.Lui(10, 0x1000_0000), Asm.Lw(11, 10, 2), Asm.Ecall);
        Assert.Equal(ExitReason.SupervisorCall, m.Hart.Run(1000));
        var s = m.Hart.Save();
        Assert.Equal(TestMachine.Handler, s.Pc);
        Assert.Equal(5UL, s.Scause); // load access fault
        Assert.Equal(Device + 2, s.Stval);
        Assert.Equal(0, m.Memory.Reads);
    }

    [Fact]
    public void AnFpLoadFromTheDeviceModelIsAnAccessFault()
    {
        // flw f1, 0(a0): only integer loads and stores park
        using var m = new DeviceMachine(HartEngine.Interpret, Asm.Lui(10, 0x1000_0000), Asm.I(0x07, 1, 2, 10, 0), Asm.Ecall);
        Assert.Equal(ExitReason.SupervisorCall, m.Hart.Run(1000));
        var s = m.Hart.Save();
        Assert.Equal(TestMachine.Handler, s.Pc);
        Assert.Equal(5UL, s.Scause);
        Assert.Equal(Device, s.Stval);
        Assert.Null(m.Hart.ParkedMmio);
    }

    /// <summary>1 MiB of RAM and a device-model window at 0x1000_0000 that always answers later.</summary>
    private sealed unsafe class DeviceMemory(ContiguousRam ram) : PhysicalMemory
    {
        public int Reads { get; private set; }

        public override byte* Frame(ulong frame, bool forWrite) => ram.Frame(frame, forWrite);

        public override MmioResult ReadMmio(ulong address, int size, out ulong value)
        {
            value = 0;
            if ((address >> 12) != Device >> 12)
            {
                return MmioResult.Fault;
            }

            Reads++;
            return MmioResult.Pending;
        }

        public override MmioResult WriteMmio(ulong address, int size, ulong value) =>
            (address >> 12) == Device >> 12 ? MmioResult.Pending : MmioResult.Fault;
    }

    private sealed class DeviceMachine : IDisposable
    {
        private readonly ContiguousRam _ram = new(TestMachine.Base, 1 << 20);

        public DeviceMachine(HartEngine engine, params uint[] code)
        {
            Memory = new DeviceMemory(_ram);
            Hart = new Hart(IsaWidth.Rv64, Memory) { Pc = TestMachine.Base, Engine = engine, TranslateAfter = 0 };
            Write(TestMachine.Base, code);
            Write(TestMachine.Handler, Asm.Ecall);
            Hart.Restore(Hart.Save() with { Stvec = TestMachine.Handler });
        }

        public DeviceMemory Memory { get; }

        public Hart Hart { get; }

        public void Dispose() => _ram.Dispose();

        private void Write(ulong address, params uint[] words)
        {
            var span = _ram.Span(address, words.Length * 4);
            for (var i = 0; i < words.Length; i++)
            {
                BitConverter.TryWriteBytes(span[(i * 4)..], words[i]);
            }
        }
    }
}
