using System.Diagnostics;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// Save and restore (Firecracker's persist model: a plain record out, a plain record in), and the
/// host's view of guest-physical memory through this hart (SBI DBCN buffers, loaders), which keeps
/// the decoded-code cache honest when the host writes guest memory.
/// </summary>
public sealed unsafe partial class Hart
{
    public HartState Save()
    {
        var x = new ulong[32];
        var f = new ulong[32];
        for (var i = 0; i < 32; i++)
        {
            x[i] = _x[i];
            f[i] = _f[i];
        }

        return new HartState
        {
            Isa = Isa,
            X = x,
            F = f,
            Pc = _pc,
            Privilege = _privilege,
            Sstatus = _sstatus,
            Sie = _sie,
            Sip = (ulong)_softwarePending,
            Stvec = _stvec,
            Sepc = _sepc,
            Scause = _scause,
            Stval = _stval,
            Sscratch = _sscratch,
            Satp = _satp,
            Scounteren = _scounteren,
            Senvcfg = _senvcfg,
            Fcsr = (_frm << 5) | _fflags,
            InstructionsRetired = _instret,
            Time = Time,
            TimerDeadline = _timerDeadline,
        };
    }

    /// <summary>
    /// Restores a saved state. The ISA width must match this hart's (an RV32 state needs an RV32 hart,
    /// which any host can create). Host-owned interrupt lines are left to the host to re-raise.
    /// </summary>
    public void Restore(HartState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Isa != Isa)
        {
            throw new ArgumentException($"hart state is {state.Isa}, this hart is {Isa}", nameof(state));
        }

        if (state.X.Length != 32 || state.F.Length != 32)
        {
            throw new ArgumentException("hart state needs 32 integer and 32 FP registers", nameof(state));
        }

        for (var i = 1; i < 32; i++)
        {
            SetX(i, state.X[i]);
        }

        for (var i = 0; i < 32; i++)
        {
            _f[i] = state.F[i];
        }

        Pc = state.Pc;
        _sstatus = state.Sstatus & SstatusWritable;
        _sie = state.Sie & 0x222;
        _softwarePending = (int)(state.Sip & 2);
        _stvec = state.Stvec & _addressMask & ~2UL;
        _sepc = state.Sepc & _addressMask & ~1UL;
        _scause = state.Scause & _addressMask;
        _stval = state.Stval & _addressMask;
        _sscratch = state.Sscratch & _addressMask;
        _satp = 0;
        WriteSatp(state.Satp);
        _scounteren = state.Scounteren & 0xFFFF_FFFF;
        _senvcfg = 0;
        _fflags = state.Fcsr & 31;
        _frm = (state.Fcsr >> 5) & 7;
        _instret = state.InstructionsRetired;
        _timeEpoch = Stopwatch.GetTimestamp() - (long)((Int128)state.Time * Stopwatch.Frequency / (long)TimebaseHz);
        _reservationValid = false;
        Privilege = state.Privilege;
        FlushTranslations();
        SetTimer(state.TimerDeadline);
    }

    /// <summary>Copies guest-physical memory (RAM only) into <paramref name="destination"/>; false if any byte is not RAM.</summary>
    public bool TryReadPhysical(ulong address, Span<byte> destination)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var a = address + (ulong)done;
            var host = _memory.Frame(a >> 12, false);
            if (host == null)
            {
                return false;
            }

            var n = Math.Min(destination.Length - done, 0x1000 - (int)(a & 0xFFF));
            new ReadOnlySpan<byte>(host + (a & 0xFFF), n).CopyTo(destination.Slice(done, n));
            done += n;
        }

        return true;
    }

    /// <summary>Writes guest-physical RAM as a device would (marks pages dirty, invalidates decoded code); false if any byte is not RAM.</summary>
    public bool TryWritePhysical(ulong address, ReadOnlySpan<byte> source)
    {
        var done = 0;
        while (done < source.Length)
        {
            var a = address + (ulong)done;
            var host = _memory.Frame(a >> 12, true);
            if (host == null)
            {
                return false;
            }

            var n = Math.Min(source.Length - done, 0x1000 - (int)(a & 0xFFF));
            source.Slice(done, n).CopyTo(new Span<byte>(host + (a & 0xFFF), n));
            var code = _code.Find(a >> 12);
            if (code != null)
            {
                Decode.DecodeCache.Invalidate(code, (uint)(a & 0xFFF), n);
            }

            done += n;
        }

        return true;
    }
}
