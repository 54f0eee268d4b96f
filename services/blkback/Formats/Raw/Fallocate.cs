using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Disagg.Blkback.Formats.Raw;

/// <summary>
/// fallocate(2), which .NET has no API for: raw discard punches holes with it.
/// </summary>
/// <remarks>
/// STYLE.md wants system calls in the one host-interop project; shared/Interop is being
/// written by another engineer right now, so this declaration lives here, internal, and
/// moves to shared/Interop when that project takes it.
/// </remarks>
internal static partial class Fallocate
{
    // linux/falloc.h
    private const int KeepSize = 0x01;
    private const int PunchHole = 0x02;

    /// <summary>Deallocates [offset, offset+length) keeping the file size; returns 0 or the errno.</summary>
    public static int PunchHoleKeepSize(SafeFileHandle file, long offset, long length)
    {
        return fallocate(file, PunchHole | KeepSize, offset, length) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    // off_t is 64-bit on every Linux ABI .NET runs on (glibc x86_64/arm64; we do not target 32-bit hosts' .NET).
    [LibraryImport("libc", SetLastError = true)]
    private static partial int fallocate(SafeFileHandle fd, int mode, long offset, long len);
}
