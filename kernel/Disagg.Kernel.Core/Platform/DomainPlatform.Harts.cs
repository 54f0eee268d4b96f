using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Execution;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Platform;

/// <summary>SBI HSM, IPI and RFENCE: what one vCPU of a domain does to the others, with real effects.</summary>
public sealed partial class DomainPlatform
{
    private const ulong AllHarts = ulong.MaxValue;

    private VcpuAction Hsm(Domain domain, Vcpu self, long fid)
    {
        var hart = self.Hart;
        switch (fid)
        {
            case 0: // hart_start(hartid, start_addr, opaque)
                {
                    var id = Arg(hart, 0);
                    if (id >= (ulong)domain.Vcpus.Count)
                    {
                        return Done(hart, SbiExtension.ErrInvalidParam, 0);
                    }

                    var target = domain.Vcpus[(int)id];
                    if (target.Started)
                    {
                        return Done(hart, SbiExtension.ErrAlreadyAvailable, 0);
                    }

                    // The target is stopped (paused, off every pCPU), so its state may be set from here.
                    var x = new ulong[32];
                    x[10] = id;
                    x[11] = Arg(hart, 2);
                    target.Hart.Restore(new HartState
                    {
                        Isa = target.Hart.Isa,
                        X = x,
                        F = new ulong[32],
                        Pc = Arg(hart, 1),
                        Privilege = Privilege.Supervisor,
                        Time = target.Hart.Time,
                    });
                    target.Started = true;
                    hypervisor.Scheduler.Unpause(target.Sched);
                    return Done(hart, SbiExtension.ErrSuccess, 0);
                }

            case 1: // hart_stop: this hart stops until another starts it again
                self.Started = false;
                hypervisor.Scheduler.Pause(self.Sched);
                return VcpuAction.Deschedule;
            case 2: // hart_get_status
                {
                    var id = Arg(hart, 0);
                    return id >= (ulong)domain.Vcpus.Count
                        ? Done(hart, SbiExtension.ErrInvalidParam, 0)
                        : Done(hart, SbiExtension.ErrSuccess, domain.Vcpus[(int)id].Started ? 0 : 1);
                }

            case 3: // hart_suspend: only the retentive kind, which is WFI by another name
                if ((uint)Arg(hart, 0) != 0)
                {
                    return Done(hart, SbiExtension.ErrNotSupported, 0);
                }

                hart.CompleteSbiCall(SbiExtension.ErrSuccess, 0);
                return self.BlockUntilInterrupt() ? VcpuAction.Deschedule : VcpuAction.Continue;
            default:
                return Done(hart, SbiExtension.ErrNotSupported, 0);
        }
    }

    /// <summary>sbi_send_ipi(hart_mask, hart_mask_base): raises SSIP in each named vCPU and wakes it.</summary>
    private static long SendIpi(Domain domain, ulong mask, ulong maskBase)
    {
        if (!TryTargets(domain, mask, maskBase, out var targets))
        {
            return SbiExtension.ErrInvalidParam;
        }

        for (var i = 0; i < domain.Vcpus.Count; i++)
        {
            if ((targets & (1UL << i)) != 0)
            {
                domain.Vcpus[i].RaiseInterrupt(Interrupts.SupervisorSoftware);
            }
        }

        return SbiExtension.ErrSuccess;
    }

    /// <summary>Legacy send_ipi: a0 points at an unsigned long hart mask in guest memory.</summary>
    private static long SendIpiLegacy(Domain domain, Vcpu self, ulong maskAddress)
    {
        Span<byte> word = stackalloc byte[8];
        var width = self.Hart.Isa == IsaWidth.Rv32 ? 4 : 8;
        word.Clear();
        if (!self.Memory.TryCopyFromGuest(maskAddress, word[..width]))
        {
            return SbiExtension.ErrInvalidParam;
        }

        return SendIpi(domain, BitConverter.ToUInt64(word), 0);
    }

    /// <summary>
    /// remote_fence_i (<paramref name="code"/>): each named hart drops its translations and decoded code before
    /// its next instruction; remote_sfence_vma(_asid): its TLB only, as a local SFENCE.VMA does (decoded code is
    /// keyed by guest-physical frame). Both drop more than an address- or ASID-ranged fence names, which the
    /// spec allows. The caller flushes itself at once, on its own thread.
    /// </summary>
    private static long RemoteFence(Domain domain, Vcpu self, ulong mask, ulong maskBase, bool code)
    {
        ulong targets;
        if (mask == AllHarts)
        {
            targets = ulong.MaxValue;
        }
        else if (!TryTargets(domain, mask, maskBase, out targets))
        {
            return SbiExtension.ErrInvalidParam;
        }

        for (var i = 0; i < domain.Vcpus.Count; i++)
        {
            if ((targets & (1UL << i)) == 0)
            {
                continue;
            }

            var hart = domain.Vcpus[i].Hart;
            if (i == self.Id && code)
            {
                hart.FlushTranslations();
            }
            else if (i == self.Id)
            {
                hart.FlushAddressTranslations();
            }
            else if (code)
            {
                hart.RequestTranslationFlush();
            }
            else
            {
                hart.RequestTlbFlush();
            }
        }

        return SbiExtension.ErrSuccess;
    }

    private static bool TryTargets(Domain domain, ulong mask, ulong maskBase, out ulong targets)
    {
        var count = domain.Vcpus.Count;
        var all = count == 64 ? ulong.MaxValue : (1UL << count) - 1;
        if (maskBase == AllHarts || (maskBase == uint.MaxValue && domain.Vcpus[0].Hart.Isa == IsaWidth.Rv32))
        {
            targets = all;
            return true;
        }

        targets = 0;
        if (maskBase >= (ulong)count)
        {
            return mask == 0;
        }

        targets = (mask << (int)maskBase) & all;
        // Bits naming harts the domain does not have are an error (SBI: SBI_ERR_INVALID_PARAM).
        return maskBase + (ulong)(64 - System.Numerics.BitOperations.LeadingZeroCount(mask)) <= (ulong)count;
    }
}
