using System.Runtime.InteropServices;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// The simplest <see cref="PhysicalMemory"/>: one block of zeroed native memory at a guest-physical base
/// (0x8000_0000 on QEMU's virt machine), everything else is MMIO that nobody answers. The ELF runner and
/// the engine's tests use it; domains use their P2M instead. Optionally keeps a dirty bitmap.
/// </summary>
public sealed unsafe class ContiguousRam : PhysicalMemory, IDisposable
{
    private readonly ulong _firstFrame;
    private readonly ulong _frames;
    private readonly ulong[] _dirty;
    private byte* _memory;

    public ContiguousRam(ulong baseAddress, ulong size)
    {
        if ((baseAddress & 0xFFF) != 0 || size == 0 || (size & 0xFFF) != 0)
        {
            throw new ArgumentException("RAM base and size must be non-zero multiples of 4 KiB");
        }

        BaseAddress = baseAddress;
        Size = size;
        _firstFrame = baseAddress >> 12;
        _frames = size >> 12;
        _dirty = new ulong[(_frames + 63) / 64];
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)size, 4096);
        NativeMemory.Clear(_memory, (nuint)size);
    }

    public ulong BaseAddress { get; }

    public ulong Size { get; }

    /// <summary>When on, every first write to a frame since the last <see cref="TakeDirtyFrames"/> is recorded.</summary>
    public bool DirtyLogging { get; set; }

    public override byte* Frame(ulong frame, bool forWrite)
    {
        var index = frame - _firstFrame;
        if (index >= _frames || _memory == null)
        {
            return null;
        }

        if (forWrite && DirtyLogging)
        {
            _dirty[index >> 6] |= 1UL << (int)(index & 63);
        }

        return _memory + (index << 12);
    }

    /// <summary>The RAM as a span, for loaders and tests.</summary>
    public Span<byte> Span(ulong guestPhysical, int length)
    {
        if (guestPhysical < BaseAddress || guestPhysical - BaseAddress + (ulong)length > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(guestPhysical), $"0x{guestPhysical:x}+{length} is outside RAM");
        }

        return new Span<byte>(_memory + (guestPhysical - BaseAddress), length);
    }

    /// <summary>Returns the guest frames written since the last call and starts a new round.</summary>
    public List<ulong> TakeDirtyFrames()
    {
        var frames = new List<ulong>();
        for (var i = 0; i < _dirty.Length; i++)
        {
            var word = _dirty[i];
            while (word != 0)
            {
                var bit = System.Numerics.BitOperations.TrailingZeroCount(word);
                frames.Add(_firstFrame + (ulong)(i * 64 + bit));
                word &= word - 1;
            }

            _dirty[i] = 0;
        }

        InvalidateTranslations();
        return frames;
    }

    public void Dispose()
    {
        if (_memory != null)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
        }
    }
}
