namespace Disagg.Interop;

/// <summary>Process control the toolstack's supervisor needs beyond System.Diagnostics.</summary>
public static class ProcessSignals
{
    public const int Sigterm = 15;
    public const int Sigkill = 9;
    public const int Sigsegv = 11;
    public const int Sigcont = 18;
    public const int Sigstop = 19;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false if no such process.</summary>
    public static bool Send(int pid, int signal)
    {
        if (Libc.Kill(pid, signal) == 0)
        {
            return true;
        }

        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        return errno == Libc.Esrch ? false : throw new InteropException($"kill({pid}, {signal})", errno);
    }

    /// <summary>
    /// A real segmentation fault in this process, as a bug in native code causes one: libc's memset writes to
    /// address 8 (below mmap_min_addr, never mapped). Unlike a SIGSEGV sent with kill(), whose .NET's handler
    /// takes and returns from, this one is a fault no runtime can resume. Only for fault injection.
    /// </summary>
    public static void FaultInNativeCode() => Libc.Memset(8, 0, 1);

    /// <summary>
    /// Asks Linux to send this process <paramref name="signal"/> when its parent thread dies (PR_SET_PDEATHSIG),
    /// so a child of a killed supervisor does not live on unsupervised. Call early in the child.
    /// </summary>
    public static void DieWithParent(int signal = Sigterm) =>
        InteropException.Check(Libc.Prctl(Libc.PrSetPdeathsig, (nuint)signal, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)");
}

/// <summary>Making file contents durable.</summary>
public static class FileSync
{
    /// <summary>fdatasync: the file's data (and the metadata needed to read it) reached the disk.</summary>
    public static void DataSync(Microsoft.Win32.SafeHandles.SafeFileHandle file) =>
        InteropException.Check(Libc.Fdatasync((int)file.DangerousGetHandle()), "fdatasync");

    /// <summary>fsync of a directory, so a rename or a new file in it is durable.</summary>
    public static void SyncDirectory(string path)
    {
        var fd = (int)InteropException.Check(Libc.Open(path, Libc.ORdonly | Libc.OCloexec), $"open({path})");
        try
        {
            InteropException.Check(Libc.Fsync(fd), $"fsync({path})");
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
