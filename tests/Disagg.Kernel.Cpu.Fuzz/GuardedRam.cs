using System.Runtime.InteropServices;

namespace Disagg.Kernel.Cpu.Fuzz;

/// <summary>
/// RAM with a canary page on each side, for the fuzzer: if the engine ever wrote outside the frames it
/// was handed, <see cref="GuardsIntact"/> turns false.
/// </summary>
internal sealed unsafe class GuardedRam : PhysicalMemory, IDisposable
{
    private const byte Canary = 0xA5;
    private readonly ulong _firstFrame;
    private readonly ulong _frames;
    private byte* _block;

    public GuardedRam(ulong baseAddress, ulong frames)
    {
        _firstFrame = baseAddress >> 12;
        _frames = frames;
        _block = (byte*)NativeMemory.AlignedAlloc((nuint)((frames + 2) * 4096), 4096);
        new Span<byte>(_block, 4096).Fill(Canary);
        new Span<byte>(_block + ((frames + 1) * 4096), 4096).Fill(Canary);
        Ram = new Span<byte>(_block + 4096, (int)(frames * 4096)).Length;
    }

    public int Ram { get; }

    public Span<byte> Bytes => new(_block + 4096, Ram);

    public long MmioReads { get; private set; }

    public long MmioWrites { get; private set; }

    public bool GuardsIntact
    {
        get
        {
            var low = new ReadOnlySpan<byte>(_block, 4096);
            var high = new ReadOnlySpan<byte>(_block + ((_frames + 1) * 4096), 4096);
            return !low.ContainsAnyExcept(Canary) && !high.ContainsAnyExcept(Canary);
        }
    }

    public override byte* Frame(ulong frame, bool forWrite)
    {
        var index = frame - _firstFrame;
        return index < _frames ? _block + ((index + 1) * 4096) : null;
    }

    /// <summary>A pretend device at 0x1000_0000 (the UART's address) answers; everything else faults.</summary>
    public override MmioResult ReadMmio(ulong address, int size, out ulong value)
    {
        MmioReads++;
        value = address >> 4;
        return (address >> 12) == 0x10000 ? MmioResult.Done : MmioResult.Fault;
    }

    public override MmioResult WriteMmio(ulong address, int size, ulong value)
    {
        MmioWrites++;
        return (address >> 12) == 0x10000 ? MmioResult.Done : MmioResult.Fault;
    }

    public void Dispose()
    {
        if (_block != null)
        {
            NativeMemory.AlignedFree(_block);
            _block = null;
        }
    }
}
