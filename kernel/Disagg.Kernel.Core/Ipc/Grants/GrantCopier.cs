using System.Runtime.CompilerServices;
using Disagg.Abi.Events;
using Disagg.Abi.Grants;

namespace Disagg.Kernel.Core.Ipc.Grants;

/// <summary>
/// GNTTABOP_copy: moves bytes between two domains after checking both sides (spec §3). A side
/// named by grant ref must be granted to the caller (write access for a destination); a side
/// named by frame must be the caller's own memory. Each op gets its own GNTST status; a bad op
/// never stops the rest of the batch. Nothing is allocated; no lock is taken.
/// </summary>
public sealed unsafe class GrantCopier(Func<int, GrantDomain?> lookup)
{
    private const int PageSize = 4096;

    public void CopyBatch(GrantDomain caller, Span<GrantCopy> ops)
    {
        for (var i = 0; i < ops.Length; i++)
        {
            ops[i].Status = (short)Copy(caller, ref ops[i]);
        }
    }

    public GrantStatus Copy(GrantDomain caller, ref GrantCopy op)
    {
        if (op.Len > PageSize || op.Source.Offset + op.Len > PageSize || op.Dest.Offset + op.Len > PageSize
            || (op.Flags & ~(GrantCopy.SourceGref | GrantCopy.DestGref)) != 0)
        {
            return GrantStatus.BadCopyArg;
        }

        var srcIsGref = (op.Flags & GrantCopy.SourceGref) != 0;
        var dstIsGref = (op.Flags & GrantCopy.DestGref) != 0;
        var status = Acquire(caller, op.Source, srcIsGref, write: false, out var src, out var srcOwner);
        if (status != GrantStatus.Okay)
        {
            return status;
        }

        status = Acquire(caller, op.Dest, dstIsGref, write: true, out var dst, out var dstOwner);
        if (status == GrantStatus.Okay)
        {
            Unsafe.CopyBlockUnaligned(dst + op.Dest.Offset, src + op.Source.Offset, op.Len);
            Release(dstOwner, (uint)op.Dest.RefOrFrame, write: true);
        }

        Release(srcOwner, (uint)op.Source.RefOrFrame, write: false);
        return status;
    }

    private static void Release(GrantDomain? owner, uint gref, bool write)
    {
        if (owner != null)
        {
            owner.Table!.Release(gref, write);
            owner.Exit();
        }
    }

    /// <summary>On success with a grant, <paramref name="pinned"/> is the granting domain, entered and its entry pinned: <see cref="Release"/> it.</summary>
    private GrantStatus Acquire(GrantDomain caller, in GrantCopyPtr ptr, bool isGref, bool write, out byte* page, out GrantDomain? pinned)
    {
        page = null;
        pinned = null;
        var domid = ptr.DomId == DomainIds.Self ? caller.DomainId : ptr.DomId;
        if (!isGref)
        {
            // A raw frame is only ever the caller's own memory.
            if (domid != caller.DomainId)
            {
                return GrantStatus.PermissionDenied;
            }

            page = caller.Frames.TryGetFrame(ptr.RefOrFrame, write);
            return page is null ? GrantStatus.BadPage : GrantStatus.Okay;
        }

        if (ptr.RefOrFrame > uint.MaxValue)
        {
            return GrantStatus.BadGntref;
        }

        var owner = domid == caller.DomainId ? caller : lookup(domid);
        if (owner?.Table is null || !owner.TryEnter())
        {
            return GrantStatus.BadDomain;
        }

        var status = owner.Table.TryAcquire((uint)ptr.RefOrFrame, caller.DomainId, write, out var frame);
        if (status != GrantStatus.Okay)
        {
            owner.Exit();
            return status;
        }

        page = owner.Frames.TryGetFrame(frame, write);
        if (page is null)
        {
            owner.Table.Release((uint)ptr.RefOrFrame, write);
            owner.Exit();
            return GrantStatus.BadPage;
        }

        pinned = owner;
        return GrantStatus.Okay;
    }
}
