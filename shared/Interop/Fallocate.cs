using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Disagg.Interop;

/// <summary>
/// fallocate(2), which .NET has no API for: a raw disk image's discard punches holes with it.
/// </summary>
public static partial class Fallocate
{
    // linux/falloc.h
    private const int KeepSize = 0x01;
    private const int PunchHole = 0x02;

    /// <summary>Deallocates [offset, offset+length) keeping the file size; returns 0 or the errno.</summary>
    /// <remarks>The errno comes back rather than an exception: EOPNOTSUPP is an answer its caller handles (it writes zeros instead).</remarks>
    public static int PunchHoleKeepSize(SafeFileHandle file, long offset, long length)
    {
        return fallocate(file, PunchHole | KeepSize, offset, length) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    // off_t is 64-bit on every Linux ABI .NET runs on (glibc x86_64/arm64; we do not target 32-bit hosts' .NET).
    [LibraryImport("libc", SetLastError = true)]
    private static partial int fallocate(SafeFileHandle fd, int mode, long offset, long len);
}
