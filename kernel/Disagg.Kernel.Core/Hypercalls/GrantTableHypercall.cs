using System.Runtime.InteropServices;
using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Kernel.Core.Ipc.Grants;

namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>
/// grant_table_op(cmd, arg, count) for guests: copy, setup_table, query_size, get/set_version
/// (v1 only). Map and unmap are for service processes and arrive over their kernel channel,
/// not as guest hypercalls. Copy batches are read and written back in chunks held on the
/// stack, so a hypercall allocates nothing.
/// </summary>
public static class GrantTableHypercall
{
    /// <summary>Ops one hypercall may carry; a guest wanting more issues more calls.</summary>
    public const uint MaxCopyBatch = 4096;

    private const int Chunk = 16;

    public static long Handle(GrantCopier copier, GrantDomain caller, IGrantFrameProvider frames, IGuestMemoryAccess memory, uint cmd, ulong arg, uint count)
    {
        switch ((GrantTableOp)cmd)
        {
            case GrantTableOp.Copy:
                return Copy(copier, caller, memory, arg, count);
            case GrantTableOp.SetupTable:
                return count == 1 ? SetupTable(caller, frames, memory, arg) : Errno.Einval;
            case GrantTableOp.QuerySize:
                {
                    if (count != 1 || !memory.TryRead(arg, out GrantQuerySize q))
                    {
                        return count != 1 ? Errno.Einval : Errno.Efault;
                    }

                    q.Status = (short)(q.Dom is DomainIds.Self || q.Dom == caller.DomainId ? GrantStatus.Okay : GrantStatus.PermissionDenied);
                    q.NrFrames = (uint)frames.CurrentFrames;
                    q.MaxNrFrames = (uint)frames.MaxFrames;
                    return memory.TryWrite(arg, q) ? 0 : Errno.Efault;
                }

            case GrantTableOp.GetVersion:
                // struct gnttab_get_version { domid_t dom; u16 pad; u32 version; }
                return memory.TryWrite(arg + 4, 1u) ? 0 : Errno.Efault;
            case GrantTableOp.SetVersion:
                {
                    if (!memory.TryRead(arg, out uint version))
                    {
                        return Errno.Efault;
                    }

                    // Only v1 exists here; asking for it is fine, anything else is refused (Xen without v2 does the same).
                    return version == 1 ? 0 : Errno.Einval;
                }

            default:
                return Errno.Enosys;
        }
    }

    private static long Copy(GrantCopier copier, GrantDomain caller, IGuestMemoryAccess memory, ulong arg, uint count)
    {
        if (count > MaxCopyBatch)
        {
            return Errno.E2big;
        }

        Span<GrantCopy> ops = stackalloc GrantCopy[Chunk];
        var size = (ulong)GuestMemoryAccessExtensions.SizeOf<GrantCopy>();
        for (uint done = 0; done < count;)
        {
            var n = (int)Math.Min(Chunk, count - done);
            var batch = ops[..n];
            var at = arg + (done * size);
            if (!memory.TryCopyFromGuest(at, MemoryMarshal.AsBytes(batch)))
            {
                return Errno.Efault;
            }

            copier.CopyBatch(caller, batch);
            if (!memory.TryCopyToGuest(at, MemoryMarshal.AsBytes(batch)))
            {
                return Errno.Efault;
            }

            done += (uint)n;
        }

        return 0;
    }

    private static long SetupTable(GrantDomain caller, IGrantFrameProvider frames, IGuestMemoryAccess memory, ulong arg)
    {
        if (!memory.TryRead(arg, out GrantSetupTable op))
        {
            return Errno.Efault;
        }

        if (op.Dom != DomainIds.Self && op.Dom != caller.DomainId)
        {
            op.Status = (short)GrantStatus.PermissionDenied;
        }
        else if (op.NrFrames > (uint)frames.MaxFrames || !frames.TryGrow((int)op.NrFrames))
        {
            op.Status = (short)GrantStatus.GeneralError;
        }
        else
        {
            for (var i = 0; i < (int)op.NrFrames; i++)
            {
                if (!memory.TryWrite(op.FrameList + ((ulong)i * 8), frames.GuestFrame(i)))
                {
                    return Errno.Efault;
                }
            }

            op.Status = (short)GrantStatus.Okay;
        }

        return memory.TryWrite(arg, op) ? 0 : Errno.Efault;
    }
}
