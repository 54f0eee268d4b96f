using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Platform;

/// <summary>
/// The SBI implementation a hart's S-mode ecalls reach (SBI spec 2.0) on run-elf's one-hart machine:
/// Base, TIME, IPI, RFENCE and HSM (hart 0 is the only hart), DBCN, SRST and the legacy console and
/// shutdown calls. Everything else answers SBI_ERR_NOT_SUPPORTED. Guest arguments
/// are untrusted: a bad buffer gets an SBI error, never an exception.
/// </summary>
internal sealed class SbiFirmware(SbiConsole console)
{
    public const long ExtBase = 0x10;
    public const long ExtTime = 0x54494D45;
    public const long ExtDebugConsole = 0x4442434E;
    public const long ExtSystemReset = 0x53525354;
    public const long ExtIpi = 0x735049;
    public const long ExtRemoteFence = 0x52464E43;
    public const long ExtHartState = 0x48534D;
    public const long LegacySetTimer = 0x00;
    public const long LegacyPutchar = 0x01;
    public const long LegacyGetchar = 0x02;
    public const long LegacyShutdown = 0x08;

    /// <summary>"DSGG": not one of the registered implementation IDs (OpenSBI 1, KVM 3, ...).</summary>
    public const long ImplementationId = 0x44534747;

    /// <summary>A DBCN request is served in chunks of this size; a larger one is a partial write, as the spec allows.</summary>
    private const int ConsoleChunk = 4096;

    private readonly byte[] _chunk = new byte[ConsoleChunk];

    public SbiOutcome Handle(Hart hart)
    {
        var extension = (long)hart.GetX(17);
        var function = (long)hart.GetX(16);
        var a0 = hart.GetX(10);
        var a1 = hart.GetX(11);
        var a2 = hart.GetX(12);
        var rv32 = hart.Isa == IsaWidth.Rv32;
        if (rv32)
        {
            extension = (uint)extension;
            function = (uint)function;
        }

        switch (extension)
        {
            case LegacySetTimer:
                hart.SetTimer(rv32 ? (uint)a0 | ((ulong)(uint)a1 << 32) : a0);
                return Legacy(hart, 0);
            case LegacyPutchar:
                console.Write([(byte)a0]);
                return Legacy(hart, 0);
            case LegacyGetchar:
                {
                    Span<byte> one = stackalloc byte[1];
                    return Legacy(hart, console.Read(one) == 1 ? one[0] : -1);
                }

            case LegacyShutdown:
                console.Flush();
                return SbiOutcome.SystemReset(0, 0);
            case ExtBase:
                return Base(hart, function, (long)a0);
            case ExtTime when function == 0:
                hart.SetTimer(rv32 ? (uint)a0 | ((ulong)(uint)a1 << 32) : a0);
                return Done(hart, SbiError.Success, 0);
            case ExtIpi when function == 0:
                if (TargetsHartZero(a0, a1, rv32, out var ipiError))
                {
                    hart.RaiseInterrupt(Interrupts.SupervisorSoftware);
                }

                return Done(hart, ipiError, 0);
            case ExtRemoteFence when function <= 6:
                if (function > 2)
                {
                    return Done(hart, SbiError.NotSupported, 0); // the hypervisor fences: no H extension here
                }

                if (TargetsHartZero(a0, a1, rv32, out var fenceError))
                {
                    hart.FlushTranslations();
                }

                return Done(hart, fenceError, 0);
            case ExtHartState:
                return HartState(hart, function, a0);
            case ExtDebugConsole:
                return DebugConsole(hart, function, a0, rv32 ? (uint)a1 | ((ulong)(uint)a2 << 32) : a1);
            case ExtSystemReset when function == 0:
                if ((uint)a0 > 2 && (uint)a0 < 0xF000_0000)
                {
                    return Done(hart, SbiError.InvalidParam, 0);
                }

                console.Flush();
                return SbiOutcome.SystemReset((uint)a0, (uint)a1);
            default:
                return Done(hart, SbiError.NotSupported, 0);
        }
    }

    private static SbiOutcome Base(Hart hart, long function, long a0)
    {
        switch (function)
        {
            case 0: return Done(hart, SbiError.Success, 2 << 24); // spec version 2.0
            case 1: return Done(hart, SbiError.Success, ImplementationId);
            case 2: return Done(hart, SbiError.Success, 1);
            case 3:
                var present = a0 is ExtBase or ExtTime or ExtDebugConsole or ExtSystemReset or ExtIpi or ExtRemoteFence or ExtHartState
                    or LegacySetTimer or LegacyPutchar or LegacyGetchar or LegacyShutdown;
                return Done(hart, SbiError.Success, present ? 1 : 0);
            case 4: // mvendorid, marchid, mimpid: not a hardware vendor
            case 5:
            case 6:
                return Done(hart, SbiError.Success, 0);
            default:
                return Done(hart, SbiError.NotSupported, 0);
        }
    }

    /// <summary>
    /// Whether a hart mask names hart 0, the only hart (SBI 2.0 §3.1: mask_base -1 means all harts). A mask
    /// naming any other hart is SBI_ERR_INVALID_PARAM, as for a hart that does not exist.
    /// </summary>
    private static bool TargetsHartZero(ulong mask, ulong maskBase, bool rv32, out long error)
    {
        var all = rv32 ? 0xFFFF_FFFFUL : ulong.MaxValue;
        error = SbiError.Success;
        if (maskBase == all)
        {
            return true;
        }

        if (maskBase != 0 || (mask & ~1UL) != 0)
        {
            error = SbiError.InvalidParam;
            return false;
        }

        return (mask & 1) != 0;
    }

    /// <summary>HSM for one hart: hart 0 is started and stays so; no other hart exists.</summary>
    private static SbiOutcome HartState(Hart hart, long function, ulong hartId)
    {
        switch (function)
        {
            case 0: // hart_start
                return Done(hart, hartId == 0 ? SbiError.AlreadyAvailable : SbiError.InvalidParam, 0);
            case 1: // hart_stop: stopping the last hart would leave nothing running
                return Done(hart, SbiError.Failed, 0);
            case 2: // hart_get_status
                return hartId == 0 ? Done(hart, SbiError.Success, 0) : Done(hart, SbiError.InvalidParam, 0);
            case 3: // hart_suspend: a retentive suspend is a WFI, which the guest can do itself
                return Done(hart, SbiError.NotSupported, 0);
            default:
                return Done(hart, SbiError.NotSupported, 0);
        }
    }

    private SbiOutcome DebugConsole(Hart hart, long function, ulong a0, ulong address)
    {
        switch (function)
        {
            case 0:
                {
                    var n = (int)Math.Min(a0, ConsoleChunk);
                    if (!hart.TryReadPhysical(address, _chunk.AsSpan(0, n)))
                    {
                        return Done(hart, SbiError.InvalidParam, 0);
                    }

                    console.Write(_chunk.AsSpan(0, n));
                    console.Flush();
                    return Done(hart, SbiError.Success, n);
                }

            case 1:
                {
                    var n = (int)Math.Min(a0, ConsoleChunk);
                    if (!hart.TryReadPhysical(address, _chunk.AsSpan(0, n)))
                    {
                        return Done(hart, SbiError.InvalidParam, 0);
                    }

                    var got = console.Read(_chunk.AsSpan(0, n));
                    hart.TryWritePhysical(address, _chunk.AsSpan(0, got));
                    return Done(hart, SbiError.Success, got);
                }

            case 2:
                console.Write([(byte)a0]);
                return Done(hart, SbiError.Success, 0);
            default:
                return Done(hart, SbiError.NotSupported, 0);
        }
    }

    private static SbiOutcome Done(Hart hart, long error, long value)
    {
        hart.CompleteSbiCall(error, value);
        return SbiOutcome.Continue;
    }

    /// <summary>Legacy (v0.1) calls return only a0 and leave a1 alone.</summary>
    private static SbiOutcome Legacy(Hart hart, long value)
    {
        var a1 = hart.GetX(11);
        hart.CompleteSbiCall(value, (long)a1);
        return SbiOutcome.Continue;
    }
}
