using System.Diagnostics;
using System.Runtime.InteropServices;
using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;
using Disagg.Kernel.Cpu.Translate;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// The translating engine's side of the run loop: at a block start, count executions of the slot,
/// translate the block when it turns hot, and enter its machine code. Translations hang off the
/// decoded page of their frame (<see cref="DecodeCache.Entries"/>), so everything that drops decoded
/// code (a store to the page, FENCE.I, a flush) drops them too.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>The register-file word (between the x0 sink and the FP registers) a block writes its next pc to.</summary>
    private const int NextPcSlot = BlockTranslator.NextPcSlot;

    private const nuint TranslatedCodeBytes = 8 << 20;

    /// <summary>Interpreted executions of a block start before it is translated, unless <see cref="TranslateAfter"/> says otherwise.</summary>
    public const int DefaultTranslateAfter = 16;

    private BlockTranslator? _translator;
    private ExecutableMemory? _translatedCode;
    private nint _hotThreshold = DefaultTranslateAfter;
    private long _statBlocksTranslated;
    private long _statTranslatedBytes;
    private long _statExitsToInterpreter;
    private long _statExitsAtLimit;
    private long _statExitsUnchained;
    private long _statInterpretedBlockStarts;
    private long _firstTranslationTimestamp;

    private double FirstTranslationMilliseconds => _firstTranslationTimestamp == 0 ? 0 : Stopwatch.GetElapsedTime(_createdTimestamp, _firstTranslationTimestamp).TotalMilliseconds;

    /// <summary>The execution engine; set at construction. Translate needs an x86-64 Linux host.</summary>
    public HartEngine Engine
    {
        get => _translator is null ? HartEngine.Interpret : HartEngine.Translate;
        init
        {
            if (value == HartEngine.Interpret)
            {
                return;
            }

            if (value != HartEngine.Translate)
            {
                throw new ArgumentOutOfRangeException(nameof(value));
            }

            if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            {
                throw new PlatformNotSupportedException($"cpu: the translating engine needs an x86-64 Linux host, not {RuntimeInformation.ProcessArchitecture}");
            }

            _translator = new BlockTranslator(_rv64);
            _translatedCode = new ExecutableMemory(TranslatedCodeBytes);
        }
    }

    /// <summary>How often a block start runs in the interpreter before it is translated (0: at once, which tests use).</summary>
    public int TranslateAfter
    {
        get => (int)_hotThreshold;
        init => _hotThreshold = value is >= 0 and < (int)DecodeCache.Refused ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <summary>
    /// Runs the translation of the block at <paramref name="pc"/> if there is one (translating it if it
    /// has just turned hot), chaining through translations (same page, other pages, computed targets) for up to about
    /// <paramref name="limit"/> instructions. Returns the instructions retired (the next pc is in
    /// x[<see cref="NextPcSlot"/>], bit 0 set when its op must be interpreted), or -1 when the interpreter
    /// must run this block.
    /// </summary>
    private long EnterTranslation(TlbEntry* tlb, ulong pc, ulong pcBase, DecodedOp* opBase, byte* hostPage, long limit)
    {
        var slot = (uint)(pc & 0xFFF) >> 1;
        var entry = DecodeCache.Entries(opBase) + slot;
        var v = *entry;
        if (v <= DecodeCache.Refused)
        {
            if (v < _hotThreshold)
            {
                *entry = v + 1;
                _statInterpretedBlockStarts++;
                return -1;
            }

            if (v != _hotThreshold)
            {
                _statInterpretedBlockStarts++;
                return -1;
            }

            v = TranslateBlock(opBase, slot, hostPage);
            *entry = v;
            DecodeCache.MarkTranslated(opBase);
            if (v == DecodeCache.Refused)
            {
                _statInterpretedBlockStarts++;
                return -1;
            }
        }

        // Translated FP ops run only while they can neither be illegal nor need FS dirtied, and round as the host does.
        _x[BlockTranslator.FpReadySlot] = (_sstatus & SstatusFs) == SstatusFs && _frm == 0 ? 1UL : 0;
        var block = (delegate* unmanaged[SuppressGCTransition]<ulong*, TlbEntry*, ulong, nint*, long, long>)v;
        var left = block(_x, tlb, pcBase, DecodeCache.Entries(opBase), limit);
        var hostFlags = (uint)_x[BlockTranslator.MxcsrSlot] & 0x3D;
        if (hostFlags != 0)
        {
            _fflags |= FloatFlagsOf(hostFlags);
        }

        if ((_x[NextPcSlot] & BlockTranslator.InterpretNext) != 0)
        {
            _statExitsToInterpreter++;
        }
        else if (left <= 0)
        {
            _statExitsAtLimit++;
        }
        else
        {
            _statExitsUnchained++;
        }

        return limit - left;
    }

    /// <summary>MXCSR's exception flags (IE, ZE, OE, UE, PE; DE has no RISC-V counterpart) as fflags (NV, DZ, OF, UF, NX).</summary>
    private static uint FloatFlagsOf(uint mxcsr) =>
        ((mxcsr & 0x01) << 4) | ((mxcsr & 0x04) << 1) | ((mxcsr & 0x08) >> 1) | ((mxcsr & 0x10) >> 3) | ((mxcsr & 0x20) >> 5);

    /// <summary>Decodes the block's ops, translates them and places the code; <see cref="DecodeCache.Refused"/> when it has none.</summary>
    private nint TranslateBlock(DecodedOp* opBase, uint slot, byte* hostPage)
    {
        var first = opBase + slot;
        var op = first;
        for (var n = 0; n <= BlockTranslator.MaxOps; n++)
        {
            if (op->Kind == Op.Undecoded)
            {
                DecodeSlot(op, opBase, hostPage);
            }

            if (!BlockTranslator.Translates(op) || BlockTranslator.EndsBlock(op->Kind))
            {
                break;
            }

            op += op->Len;
        }

        var entries = DecodeCache.Entries(opBase);
        if (_translator!.Translate(first, slot * 2, entries) == 0)
        {
            return DecodeCache.Refused;
        }

        var code = _translatedCode!.TryAppend(_translator.Code);
        if (code == null)
        {
            // Full: every translation is dropped before its memory is reused. Safe here: no block is running.
            // Translated again: the code may jump directly into translations that are now gone.
            _code.DropAllTranslations();
            _translatedCode.Reset();
            _translator.Translate(first, slot * 2, entries);
            code = _translatedCode.TryAppend(_translator.Code);
        }

        if (_statBlocksTranslated++ == 0)
        {
            _firstTranslationTimestamp = Stopwatch.GetTimestamp();
        }

        _statTranslatedBytes += _translator.Code.Length;
        return (nint)code;
    }
}
