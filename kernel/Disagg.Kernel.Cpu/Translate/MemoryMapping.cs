using System.Runtime.InteropServices;

namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// The three libc calls executable memory needs. The CPU engine references nothing else of ours
/// (STYLE), so it carries these few imports itself instead of using shared/Interop.
/// </summary>
internal static unsafe partial class MemoryMapping
{
    public const int ProtectNone = 0;
    public const int ProtectRead = 1;
    public const int ProtectWrite = 2;
    public const int ProtectExecute = 4;
    public const int MapPrivate = 0x02;
    public const int MapAnonymous = 0x20;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Map(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    public static partial int Protect(void* address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Unmap(void* address, nuint length);
}
