using Disagg.Kernel.Cpu.Decode;

namespace Disagg.Kernel.Cpu;

/// <summary>The run loop's helpers off the per-instruction path: periodic host checks and lazy decoding of a slot.</summary>
public sealed unsafe partial class Hart
{
    /// <summary>Block-start housekeeping every <see cref="CheckInterval"/> instructions: host invalidations and the timer.</summary>
    private void PollHost()
    {
        var generation = _memory.Generation;
        if (generation != _seenGeneration || Interlocked.Exchange(ref _flushRequested, 0) != 0)
        {
            _seenGeneration = generation;
            FlushTranslations();
        }

        if (_timerDeadline != ulong.MaxValue && (Volatile.Read(ref _hostPending) & (int)Interrupts.SupervisorTimer) == 0 && Time >= _timerDeadline)
        {
            Interlocked.Or(ref _hostPending, (int)Interrupts.SupervisorTimer);
        }
    }

    private void DecodeSlot(DecodedOp* slot, DecodedOp* opBase, byte* hostPage)
    {
        var offset = (uint)((byte*)slot - (byte*)opBase) >> 3;
        _statDecodes++;
        uint raw = *(ushort*)(hostPage + offset);
        if ((raw & 3) == 3)
        {
            if (offset == 0xFFE)
            {
                *slot = new DecodedOp { Kind = Op.CrossPage, Len = 2 };
                return;
            }

            raw |= (uint)*(ushort*)(hostPage + offset + 2) << 16;
        }

        *slot = Decoder.Decode(raw, _rv64);
        if (slot->Kind is >= Op.Beq and <= Op.Bgeu && (ulong)((long)offset + slot->Imm) < 0x1000)
        {
            slot->Rs3 = 1;
        }
    }
}
