using System.Runtime.InteropServices;

namespace Disagg.Interop;

/// <summary>An owned Linux file descriptor, closed exactly once when disposed (or finalized).</summary>
public sealed class FileDescriptor : SafeHandle
{
    public FileDescriptor(int fd)
        : base(-1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle < 0;

    /// <summary>The number, for passing to a system call while this object is alive.</summary>
    public int Value => (int)handle;

    /// <summary>A second descriptor of the same open file (close-on-exec), owned separately.</summary>
    public FileDescriptor Duplicate() =>
        new((int)InteropException.Check(Libc.FcntlInt(Value, Libc.FDupfdCloexec, 0), "fcntl(F_DUPFD_CLOEXEC)"));

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
