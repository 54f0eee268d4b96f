using System.Runtime.InteropServices;

namespace Disagg.Ring.Tests;

/// <summary>Ring memory with a canary page before and after, to prove a ring end never touches outside its bytes.</summary>
internal sealed unsafe class GuardedRing : IDisposable
{
    private const byte Canary = 0xA5;
    private readonly byte* _block;

    public GuardedRing(int bytes)
    {
        Bytes = bytes;
        _block = (byte*)NativeMemory.AlignedAlloc((nuint)(bytes + 8192), 4096);
        new Span<byte>(_block, bytes + 8192).Fill(Canary);
        new Span<byte>(Ring, bytes).Clear();
    }

    public int Bytes { get; }

    public byte* Ring => _block + 4096;

    public ref SharedRingHeader Header => ref *(SharedRingHeader*)Ring;

    public bool CanariesIntact()
    {
        foreach (var b in new ReadOnlySpan<byte>(_block, 4096))
        {
            if (b != Canary)
            {
                return false;
            }
        }

        foreach (var b in new ReadOnlySpan<byte>(Ring + Bytes, 4096))
        {
            if (b != Canary)
            {
                return false;
            }
        }

        return true;
    }

    public void Dispose() => NativeMemory.AlignedFree(_block);
}
