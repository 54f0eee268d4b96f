namespace Disagg.Xenstored.Protocol;

/// <summary>
/// The errors a xenstore reply can carry (xsd_errors in io/xs_wire.h). The reply is type ERROR with
/// the errno's NAME as a NUL-terminated payload; clients map the name back to errno.
/// None means success. Append-only: the names are the wire format.
/// </summary>
public enum XsError
{
    None = 0,
    EINVAL,
    EACCES,
    EEXIST,
    EISDIR,
    ENOENT,
    ENOMEM,
    ENOSPC,
    EIO,
    ENOTEMPTY,
    ENOSYS,
    EROFS,
    EBUSY,
    EAGAIN,
    EISCONN,
    E2BIG,
    EPERM,
}
