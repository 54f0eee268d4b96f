using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Execution;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Platform;

/// <summary>
/// The firmware a domain's vCPUs call into with ecall from S-mode: SBI (Base, TIME, IPI, RFENCE,
/// HSM, SRST, DBCN, legacy console and timer) and, through the XEN extension, hypercalls.
/// Every argument is the guest's: a bad one gets an SBI error or a Xen errno, never an exception.
/// </summary>
public sealed partial class DomainPlatform(Hypervisor hypervisor) : IVcpuPlatform
{
    public VcpuAction HandleEcall(Vcpu vcpu)
    {
        var hart = vcpu.Hart;
        var domain = hypervisor.Domains[vcpu.DomainId];
        if (domain is null)
        {
            return VcpuAction.Deschedule; // destroyed under us: it will not run again
        }

        var rv32 = hart.Isa == IsaWidth.Rv32;
        var ext = (long)hart.GetX(17);
        var fid = (long)hart.GetX(16);
        if (rv32)
        {
            ext = (uint)ext;
            fid = (uint)fid;
        }

        switch (ext)
        {
            case SbiExtension.Xen:
                return Hypercall(domain, vcpu);
            case SbiExtension.Base:
                return Done(hart, SbiExtension.ErrSuccess, Base(fid, Arg(hart, 0), out var baseError), baseError);
            case SbiExtension.Time when fid == 0:
            case SbiExtension.LegacySetTimer:
                hart.SetTimer(rv32 ? (uint)hart.GetX(10) | ((ulong)(uint)hart.GetX(11) << 32) : hart.GetX(10));
                return ext == SbiExtension.LegacySetTimer ? Legacy(hart, 0) : Done(hart, SbiExtension.ErrSuccess, 0);
            case SbiExtension.LegacyPutchar:
                domain.SbiConsole.Write([(byte)hart.GetX(10)]);
                return Legacy(hart, 0);
            case SbiExtension.LegacyGetchar:
                return Legacy(hart, domain.SbiConsole.ReadByte());
            case SbiExtension.LegacyShutdown:
                domain.Shutdown(ShutdownReason.Poweroff);
                return VcpuAction.Deschedule;
            case SbiExtension.SystemReset when fid == 0:
                return SystemReset(domain, hart);
            case SbiExtension.DebugConsole:
                return DebugConsole(domain, hart, fid);
            case SbiExtension.Pmu when fid == 0:
                return Done(hart, SbiExtension.ErrSuccess, 0); // sbi_pmu_num_counters: none (every other PMU call is NOT_SUPPORTED)
            case SbiExtension.Hsm:
                return Hsm(domain, vcpu, fid);
            case SbiExtension.Ipi when fid == 0:
                return Done(hart, SendIpi(domain, Arg(hart, 0), Arg(hart, 1)), 0);
            case SbiExtension.LegacySendIpi:
                return Legacy(hart, SendIpiLegacy(domain, vcpu, hart.GetX(10)));
            case SbiExtension.LegacyClearIpi:
                hart.ClearInterrupt(Interrupts.SupervisorSoftware);
                return Legacy(hart, 0);
            case SbiExtension.Rfence when fid is >= 0 and <= 2:
                return Done(hart, RemoteFence(domain, vcpu, Arg(hart, 0), Arg(hart, 1), code: fid == 0), 0);
            case SbiExtension.LegacyRemoteFenceI:
            case SbiExtension.LegacyRemoteSfenceVma:
            case SbiExtension.LegacyRemoteSfenceVmaAsid:
                RemoteFence(domain, vcpu, ulong.MaxValue, 0, code: ext == SbiExtension.LegacyRemoteFenceI);
                return Legacy(hart, 0);
            default:
                return Done(hart, SbiExtension.ErrNotSupported, 0);
        }
    }

    public void OnInternalError(Vcpu vcpu, Exception error)
    {
        // Xen's rule: our own broken invariant stops loudly — here, the one domain it hit.
        hypervisor.Log.WriteKernel($"BUG: domain {vcpu.DomainId} vcpu {vcpu.Id} at pc 0x{vcpu.Hart.Pc:x}: {error}");
        hypervisor.Domains[vcpu.DomainId]?.Shutdown(ShutdownReason.Crash);
    }

    private static ulong Arg(Hart hart, int n) => hart.Isa == IsaWidth.Rv32 ? (uint)hart.GetX(10 + n) : hart.GetX(10 + n);

    private static VcpuAction Done(Hart hart, long error, long value, long? overrideError = null)
    {
        hart.CompleteSbiCall(overrideError ?? error, value);
        return VcpuAction.Continue;
    }

    /// <summary>Legacy (v0.1) calls return only a0 and leave a1 alone.</summary>
    private static VcpuAction Legacy(Hart hart, long value)
    {
        hart.CompleteSbiCall(value, (long)hart.GetX(11));
        return VcpuAction.Continue;
    }

    private static long Base(long fid, ulong a0, out long error)
    {
        error = SbiExtension.ErrSuccess;
        switch (fid)
        {
            case 0: return 2 << 24; // SBI 2.0
            case 1: return SbiExtension.ImplementationId;
            case 2: return 1;
            case 3:
                return (long)a0 is SbiExtension.Base or SbiExtension.Time or SbiExtension.Ipi or SbiExtension.Rfence
                    or SbiExtension.Hsm or SbiExtension.SystemReset or SbiExtension.DebugConsole or SbiExtension.Pmu or SbiExtension.Xen
                    or SbiExtension.LegacySetTimer or SbiExtension.LegacyPutchar or SbiExtension.LegacyGetchar
                    or SbiExtension.LegacyClearIpi or SbiExtension.LegacySendIpi or SbiExtension.LegacyRemoteFenceI
                    or SbiExtension.LegacyRemoteSfenceVma or SbiExtension.LegacyRemoteSfenceVmaAsid or SbiExtension.LegacyShutdown
                    ? 1 : 0;
            case 4:
            case 5:
            case 6:
                return 0; // mvendorid, marchid, mimpid: no hardware vendor
            default:
                error = SbiExtension.ErrNotSupported;
                return 0;
        }
    }

    private static VcpuAction SystemReset(Domain domain, Hart hart)
    {
        var type = (uint)hart.GetX(10);
        var reason = (uint)hart.GetX(11);
        if (type > 2 && type < 0xF000_0000)
        {
            return Done(hart, SbiExtension.ErrInvalidParam, 0);
        }

        // SBI SRST: shutdown (0) or cold/warm reboot (1, 2); reason 1 is a system failure -> Xen's crash.
        var why = type == 0 ? (reason == 1 ? ShutdownReason.Crash : ShutdownReason.Poweroff) : ShutdownReason.Reboot;
        domain.Shutdown(domain.PendingShutdownCode ?? why);
        return VcpuAction.Deschedule;
    }

    private static VcpuAction DebugConsole(Domain domain, Hart hart, long fid)
    {
        const int MaxChunk = 4096;
        var rv32 = hart.Isa == IsaWidth.Rv32;
        switch (fid)
        {
            case 0:
                {
                    var n = (int)Math.Min(Arg(hart, 0), MaxChunk);
                    var address = rv32 ? (uint)hart.GetX(11) | ((ulong)(uint)hart.GetX(12) << 32) : hart.GetX(11);
                    Span<byte> text = stackalloc byte[MaxChunk];
                    if (!hart.TryReadPhysical(address, text[..n]))
                    {
                        return Done(hart, SbiExtension.ErrInvalidParam, 0);
                    }

                    domain.SbiConsole.Write(text[..n]);
                    return Done(hart, SbiExtension.ErrSuccess, n);
                }

            case 1:
                {
                    var n = (int)Math.Min(Arg(hart, 0), MaxChunk);
                    var address = rv32 ? (uint)hart.GetX(11) | ((ulong)(uint)hart.GetX(12) << 32) : hart.GetX(11);
                    Span<byte> input = stackalloc byte[MaxChunk];
                    var read = domain.SbiConsole.Read(input[..n], bytes => hart.TryWritePhysical(address, bytes));
                    return read < 0 ? Done(hart, SbiExtension.ErrInvalidParam, 0) : Done(hart, SbiExtension.ErrSuccess, read);
                }

            case 2:
                domain.SbiConsole.Write([(byte)hart.GetX(10)]);
                return Done(hart, SbiExtension.ErrSuccess, 0);
            default:
                return Done(hart, SbiExtension.ErrNotSupported, 0);
        }
    }
}
