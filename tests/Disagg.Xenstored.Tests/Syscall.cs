using System.Runtime.InteropServices;

namespace Disagg.Xenstored.Tests;

/// <summary>kill(2), to send SIGTERM (Process.Kill only sends SIGKILL).</summary>
internal static partial class Syscall
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
