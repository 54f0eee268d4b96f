using System.Runtime.InteropServices;

namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// An anonymous mapping that translated code is appended to, never writable and executable at once
/// (W^X): it is mapped read+execute, and an append flips only the pages it touches to read+write for
/// the copy and back to read+execute. Appends are bump allocations; <see cref="Reset"/> forgets them
/// all (the caller must have dropped every pointer into it first). Owned by one hart's thread.
/// </summary>
internal sealed unsafe class ExecutableMemory : SafeHandle
{
    private const nuint PageSize = 4096;
    private const nuint Alignment = 16;

    private readonly nuint _capacity;
    private nuint _used;

    public ExecutableMemory(nuint capacity)
        : base(0, ownsHandle: true)
    {
        _capacity = (capacity + PageSize - 1) & ~(PageSize - 1);
        var p = MemoryMapping.Map(null, _capacity, MemoryMapping.ProtectRead | MemoryMapping.ProtectExecute, MemoryMapping.MapPrivate | MemoryMapping.MapAnonymous, -1, 0);
        if (p == (void*)-1)
        {
            throw new InvalidOperationException($"cpu: translated-code memory: mmap of {_capacity} bytes failed (errno {Marshal.GetLastPInvokeError()})");
        }

        SetHandle((nint)p);
    }

    public override bool IsInvalid => handle == 0;

    public nuint Capacity => _capacity;

    public nuint Used => _used;

    /// <summary>Copies <paramref name="code"/> in and returns where it now lives, or null when the memory is full.</summary>
    public byte* TryAppend(ReadOnlySpan<byte> code)
    {
        var start = (_used + Alignment - 1) & ~(Alignment - 1);
        if (code.Length == 0 || start + (nuint)code.Length > _capacity)
        {
            return null;
        }

        var at = (byte*)handle + start;
        var first = (byte*)((nuint)at & ~(PageSize - 1));
        var span = ((nuint)(at + code.Length) - (nuint)first + PageSize - 1) & ~(PageSize - 1);
        SetProtection(first, span, MemoryMapping.ProtectRead | MemoryMapping.ProtectWrite);
        code.CopyTo(new Span<byte>(at, code.Length));
        SetProtection(first, span, MemoryMapping.ProtectRead | MemoryMapping.ProtectExecute);
        _used = start + (nuint)code.Length;
        return at;
    }

    public void Reset() => _used = 0;

    protected override bool ReleaseHandle() => MemoryMapping.Unmap((void*)handle, _capacity) == 0;

    private static void SetProtection(byte* first, nuint length, int protection)
    {
        if (MemoryMapping.Protect(first, length, protection) != 0)
        {
            throw new InvalidOperationException($"cpu: translated-code memory: mprotect({protection}) failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }
}
