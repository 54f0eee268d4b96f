namespace Disagg.Abi.Hypercalls;

/// <summary>Xen's errno values (public/errno.h); hypercalls return them negated.</summary>
public enum XenErrno
{
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    E2BIG = 7,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    EINVAL = 22,
    ENOSPC = 28,
    ENOSYS = 38,
}
