using Disagg.Abi.Hypercalls;

namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>Hypercall results: 0 or a positive value on success, a negated Xen errno on failure.</summary>
internal static class Errno
{
    public const long Efault = -(long)XenErrno.EFAULT;
    public const long Einval = -(long)XenErrno.EINVAL;
    public const long Enosys = -(long)XenErrno.ENOSYS;
    public const long Eperm = -(long)XenErrno.EPERM;
    public const long Esrch = -(long)XenErrno.ESRCH;
    public const long E2big = -(long)XenErrno.E2BIG;
    public const long Enomem = -(long)XenErrno.ENOMEM;
}
