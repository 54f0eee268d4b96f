using System.Runtime.InteropServices;

namespace Disagg.Interop;

/// <summary>
/// The calls a sandboxed service must not be able to make, for the test-only probe that proves the sandbox holds
/// (shared/Service/Hosting/SandboxProbe): exec a program, and a system call no service's allow-list names.
/// </summary>
public static partial class SandboxCalls
{
    /// <summary>execve(path) with no arguments: returns the errno when it fails; when it succeeds it does not return.</summary>
    public static int TryExec(string path)
    {
        _ = Execve(path, [path, null], [null]);
        return Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// kexec_file_load(-1, -1, ...): a call no service makes (not in any allow-list), with descriptors that make it
    /// fail harmlessly (EBADF) where it is allowed. Under the sandbox the process is killed with SIGSYS instead.
    /// </summary>
    public static int CallOutsideAllowList() => Syscall(SysKexecFileLoad, -1, -1, 0, 0, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    private const long SysKexecFileLoad = 320; // x86-64

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Execve(string path, string?[] argv, string?[] envp);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5);
}
