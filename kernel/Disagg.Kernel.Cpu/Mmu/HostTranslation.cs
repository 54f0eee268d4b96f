namespace Disagg.Kernel.Cpu;

/// <summary>
/// Translation on the host's behalf: when a guest passes a pointer in a hypercall, the kernel
/// reads it the way the guest's own access at its current privilege would, but a bad pointer
/// must fail the hypercall (-EFAULT), not trap the guest — so nothing is raised here.
/// </summary>
public sealed unsafe partial class Hart
{
    public bool TryTranslate(ulong va, bool write, out ulong pa)
    {
        va &= _addressMask;
        if (_rv64 ? (_satp >> 60) == 0 : (_satp >> 31) == 0)
        {
            pa = va;
            return true;
        }

        var cause = _rv64
            ? WalkSv39(va, write ? Access.Write : Access.Read, out pa, out _)
            : WalkSv32(va, write ? Access.Write : Access.Read, out pa, out _);
        return cause == ulong.MaxValue;
    }
}
