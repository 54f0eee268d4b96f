using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Disagg.Xenstored.Durability;

/// <summary>
/// fdatasync and a directory's fsync, which .NET does not offer (FileStream.Flush(true) is a full
/// fsync, and .NET refuses to open a directory). These belong in shared/Interop with the other
/// system calls; they live here until that project takes them, and nothing else of ours calls libc.
/// </summary>
internal static partial class FileSync
{
    private const int OpenReadOnly = 0;
    private const int OpenDirectory = 0x10000;
    private const int OpenCloseOnExec = 0x80000;

    /// <summary>Data (and the size, which a growing journal changes) on stable storage.</summary>
    public static void DataSync(SafeFileHandle file, string what)
    {
        var fd = (int)file.DangerousGetHandle();
        if (Fdatasync(fd) != 0)
        {
            throw new IOException($"fdatasync({what}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Makes a rename or a file creation in <paramref name="directory"/> durable.</summary>
    public static void SyncDirectory(string directory)
    {
        var fd = Open(directory, OpenReadOnly | OpenDirectory | OpenCloseOnExec);
        if (fd < 0)
        {
            throw new IOException($"open({directory}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync({directory}) failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int Fdatasync(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
