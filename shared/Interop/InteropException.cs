using System.Runtime.InteropServices;

namespace Disagg.Interop;

/// <summary>A system call failed: which one, on what, and the errno it returned.</summary>
public sealed class InteropException : Exception
{
    public InteropException(string operation, int errno)
        : base($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
    {
        Operation = operation;
        Errno = errno;
    }

    public string Operation { get; }

    public int Errno { get; }

    /// <summary>Throws with the last errno if <paramref name="result"/> is negative.</summary>
    internal static long Check(long result, string operation) =>
        result < 0 ? throw new InteropException(operation, Marshal.GetLastPInvokeError()) : result;
}
