using Disagg.Kernel.Cpu.Decode;

namespace Disagg.Kernel.Cpu;

/// <summary>The run loop's helpers off the per-instruction path: periodic host checks and lazy decoding of a slot.</summary>
public sealed unsafe partial class Hart
{
    /// <summary>Block-start housekeeping every <see cref="CheckInterval"/> instructions: host invalidations and the timer.</summary>
    private void PollHost()
    {
        var generation = _memory.Generation;
        var requested = Volatile.Read(ref _flushRequested) != 0 ? Interlocked.Exchange(ref _flushRequested, 0) : 0;
        if (generation != _seenGeneration || (requested & FlushCode) != 0)
        {
            _seenGeneration = generation;
            FlushTranslations();
        }
        else if (requested != 0)
        {
            FlushTlb();
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
        if (slot->Kind is Op.Lui or Op.Auipc or Op.Auipc32)
        {
            Fuse(slot, offset, hostPage);
        }

        if (slot->Kind is >= Op.Beq and <= Op.Bgeu && (ulong)((long)offset + slot->Imm) < 0x1000)
        {
            slot->Rs3 = 1;
        }
    }

    /// <summary>
    /// Fuses the constant-building pairs compilers emit everywhere (lui+addi, auipc+addi: `li`, `la`)
    /// into one op. The second instruction keeps its own slot, so a jump to it still works; a store to
    /// either half invalidates the fused slot (DecodeCache.Invalidate reaches back 8 bytes).
    /// </summary>
    private void Fuse(DecodedOp* slot, uint offset, byte* hostPage)
    {
        var next = offset + ((uint)slot->Len * 2);
        if (next > 0xFFE)
        {
            return;
        }

        uint raw = *(ushort*)(hostPage + next);
        if ((raw & 3) == 3)
        {
            if (next > 0xFFC)
            {
                return;
            }

            raw |= (uint)*(ushort*)(hostPage + next + 2) << 16;
        }

        var second = Decoder.Decode(raw, _rv64);
        if (second.Rs1 != slot->Rd || second.Rd != slot->Rd || slot->Rd == Decoder.Sink)
        {
            return;
        }

        var len = (byte)(slot->Len + second.Len);
        switch (slot->Kind, second.Kind)
        {
            case (Op.Lui, Op.Addi):
                *slot = new DecodedOp { Kind = Op.LuiAddi, Rd = slot->Rd, Len = len, Imm = slot->Imm + second.Imm };
                break;
            case (Op.Lui, Op.Addiw):
                *slot = new DecodedOp { Kind = Op.LuiAddi, Rd = slot->Rd, Len = len, Imm = (int)(slot->Imm + second.Imm) };
                break;
            case (Op.Auipc, Op.Addi):
                *slot = new DecodedOp { Kind = Op.AuipcAddi, Rd = slot->Rd, Len = len, Imm = slot->Imm + second.Imm };
                break;
            case (Op.Auipc32, Op.Addiw):
                *slot = new DecodedOp { Kind = Op.Auipc32Addi, Rd = slot->Rd, Len = len, Imm = slot->Imm + second.Imm };
                break;
            default:
                break;
        }
    }
}
