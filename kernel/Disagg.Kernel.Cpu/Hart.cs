using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// One RISC-V hart (RV64GC or RV32GC) running in S-mode and U-mode over a host-provided
/// <see cref="PhysicalMemory"/>. It knows nothing of domains: the host runs it in slices with
/// <see cref="Run"/>, answers SBI calls when it exits with <see cref="ExitReason.SupervisorCall"/>,
/// injects interrupts (thread-safe) and saves/restores it as a <see cref="HartState"/>.
/// Only <see cref="Kick"/>, <see cref="RaiseInterrupt"/>, <see cref="ClearInterrupt"/>, <see cref="RequestTranslationFlush"/>
/// and <see cref="RequestTlbFlush"/> may be called from another thread; everything else belongs to the thread that runs the hart.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>The `time` CSR counts at 10 MHz, as on QEMU's virt machine.</summary>
    public const ulong TimebaseHz = 10_000_000;

    private const int KickBit = 1 << 30;

    // What another thread asked the hart to drop (_flushRequested): decoded code and translations too, or the TLB alone.
    private const int FlushCode = 1;
    private const int FlushTlbOnly = 2;
    private const int HostInterruptMask = (int)(Interrupts.SupervisorTimer | Interrupts.SupervisorExternal);

    private readonly PhysicalMemory _memory;
    private readonly bool _rv64;
    private readonly ulong _addressMask;
    private readonly ulong[] _registerFile;
    private readonly ulong* _x;
    private readonly ulong* _f;
    private readonly TlbEntry[] _tlbStorage;
    private readonly TlbEntry* _tlbUser;
    private readonly TlbEntry* _tlbSupervisor;
    private readonly DecodedOp[] _scratchStorage;
    private readonly DecodedOp* _scratch;
    private readonly DecodeCache _code = new();

    private TlbEntry* _tlb;
    private bool _tlbHasSuperpages;
    private int _seenGeneration;
    private int _flushRequested; // FlushCode | FlushTlbOnly, set by other threads (Interlocked)
    private ulong _pc;
    private Privilege _privilege;

    // Interrupt state: _hostPending is written by other threads (Interlocked), the rest only by the hart.
    private int _hostPending;
    private byte* _externalLevel;
    private int _softwarePending;
    private int _deliverable;

    private long _timeEpoch;
    private readonly long _createdTimestamp;
    private ulong _timerDeadline = ulong.MaxValue;
    private ulong _instret;
    private long _liveBudget;
    private long _sliceBudget;
    private long _sliceNotRetired;

    public Hart(IsaWidth isa, PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (isa is not (IsaWidth.Rv32 or IsaWidth.Rv64))
        {
            throw new ArgumentOutOfRangeException(nameof(isa));
        }

        Isa = isa;
        _memory = memory;
        _rv64 = isa == IsaWidth.Rv64;
        _addressMask = _rv64 ? ulong.MaxValue : 0xFFFF_FFFF;
        _registerFile = GC.AllocateArray<ulong>(64 + 8, pinned: true);
        _x = (ulong*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_registerFile));
        _f = _x + 40;
        _tlbStorage = GC.AllocateArray<TlbEntry>(4 * Tlb.Entries, pinned: true);
        _tlbUser = (TlbEntry*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_tlbStorage));
        _tlbSupervisor = _tlbUser + Tlb.Entries;
        _scratchStorage = GC.AllocateArray<DecodedOp>(3, pinned: true);
        _scratch = (DecodedOp*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scratchStorage));
        _scratch[1].Kind = Op.BlockEnd;
        _scratch[2].Kind = Op.BlockEnd;
        _timeEpoch = Stopwatch.GetTimestamp();
        _createdTimestamp = _timeEpoch;
        _seenGeneration = memory.Generation;
        _privilege = Privilege.Supervisor;
        _tlb = _tlbSupervisor;

        // OpenSBI hands an S-mode payload FS = Dirty; software written for it may use FP at once.
        _sstatus = SstatusFs;
        FlushTlb();
        UpdateDeliverable();
    }

    public IsaWidth Isa { get; }

    /// <summary>
    /// The memory generation this hart last flushed its translations for (<see cref="PhysicalMemory.Generation"/>).
    /// A dirty log's read-and-clear waits until every running hart has caught up: from then on no store can
    /// bypass the log through a write entry cached in the round before.
    /// </summary>
    public int ObservedGeneration => Volatile.Read(ref _seenGeneration);

    public ulong Pc
    {
        get => _pc;
        set => _pc = value & _addressMask & ~1UL;
    }

    public Privilege Privilege
    {
        get => _privilege;
        set
        {
            _privilege = value == Privilege.User ? Privilege.User : Privilege.Supervisor;
            _tlb = _privilege == Privilege.User ? _tlbUser : _tlbSupervisor;
            UpdateDeliverable();
        }
    }

    /// <summary>Instructions retired since the hart was created (or restored).</summary>
    public ulong InstructionsRetired => _instret;

    /// <summary>The guest's `time` CSR value now.</summary>
    public ulong Time => (ulong)((Int128)(Stopwatch.GetTimestamp() - _timeEpoch) * (long)TimebaseHz / Stopwatch.Frequency);

    /// <summary>The SBI set_timer deadline (in <see cref="Time"/> units); ulong.MaxValue when none.</summary>
    public ulong TimerDeadline => _timerDeadline;

    /// <summary>The interrupts sie enables: only these end a WFI.</summary>
    public Interrupts EnabledInterrupts => (Interrupts)_sie;

    /// <summary>True when an interrupt that sie enables is pending (what wakes a WFI), whatever sstatus.SIE says.</summary>
    public bool InterruptPending
    {
        get
        {
            var pending = PendingBits();
            if (_timerDeadline != ulong.MaxValue && Time >= _timerDeadline)
            {
                pending |= (int)Interrupts.SupervisorTimer;
            }

            return (pending & (int)_sie) != 0;
        }
    }

    /// <summary>Pending interrupts as sip shows them.</summary>
    public Interrupts PendingInterrupts => (Interrupts)PendingBits();

    /// <summary>Engine counters for profiling; read on the hart's thread.</summary>
    public HartStatistics Statistics => new(_statTlbFills, _statPageWalks, _code.PagesDecoded, _statDecodes, _statTlbFlushes, _statTraps, _statBlocksTranslated, _statTranslatedBytes, FirstTranslationMilliseconds,
        _statExitsToInterpreter, _statExitsAtLimit, _statExitsUnchained, _statInterpretedBlockStarts);

    public ulong GetX(int index) => (uint)index < 32 ? _x[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Writes an integer register; on RV32 the value is kept sign-extended from bit 31.</summary>
    public void SetX(int index, ulong value)
    {
        if ((uint)index >= 32)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }

        if (index != 0)
        {
            _x[index] = _rv64 ? value : (ulong)(long)(int)value;
        }
    }

    public ulong GetF(int index) => (uint)index < 32 ? _f[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public void SetF(int index, ulong value) => _f[(uint)index < 32 ? index : throw new ArgumentOutOfRangeException(nameof(index))] = value;

    /// <summary>Finishes an SBI call: a0 = error, a1 = value, pc steps over the ecall.</summary>
    public void CompleteSbiCall(long error, long value)
    {
        SetX(10, (ulong)error);
        SetX(11, (ulong)value);
        _pc = (_pc + 4) & _addressMask;
    }

    /// <summary>Sets the timer deadline (SBI set_timer): clears a pending timer interrupt; raises it at once if the deadline has passed.</summary>
    public void SetTimer(ulong deadline)
    {
        _timerDeadline = deadline;
        Interlocked.And(ref _hostPending, ~(int)Interrupts.SupervisorTimer);
        if (Time >= deadline)
        {
            Interlocked.Or(ref _hostPending, (int)Interrupts.SupervisorTimer);
        }
    }

    /// <summary>Raises host-owned interrupt lines (timer, external). Thread-safe; the hart sees it at its next block boundary.</summary>
    public void RaiseInterrupt(Interrupts lines)
    {
        if ((lines & Interrupts.SupervisorSoftware) != 0)
        {
            // SSIP is guest-writable state in sip; an IPI sets it through the same pending word.
            Interlocked.Or(ref _hostPending, (int)Interrupts.SupervisorSoftware);
        }

        Interlocked.Or(ref _hostPending, (int)lines & HostInterruptMask);
    }

    /// <summary>Clears host-owned interrupt lines. Thread-safe.</summary>
    public void ClearInterrupt(Interrupts lines) => Interlocked.And(ref _hostPending, ~((int)lines & HostInterruptMask));

    /// <summary>
    /// Makes the supervisor external interrupt a level that follows two guest-visible bytes (a Xen vcpu_info:
    /// [0] evtchn_upcall_pending, [1] evtchn_upcall_mask): SEIP raised by the host is dropped, when the hart
    /// is about to take it, if the guest has meanwhile cleared the pending byte or set the mask. A PV guest
    /// that handled its events therefore takes no second, spurious upcall. Set before the hart first runs.
    /// </summary>
    public void SetExternalInterruptLevel(byte* vcpuInfo) => _externalLevel = vcpuInfo;

    /// <summary>
    /// True (and SEIP cleared) if the external line's level source says low. Clear first, then re-read, so a
    /// raise racing with us is never lost.
    /// </summary>
    private bool ExternalLineLow()
    {
        var level = _externalLevel;
        if (level == null || (Volatile.Read(ref level[0]) != 0 && Volatile.Read(ref level[1]) == 0))
        {
            return false;
        }

        Interlocked.And(ref _hostPending, ~(int)Interrupts.SupervisorExternal);
        if (Volatile.Read(ref level[0]) != 0 && Volatile.Read(ref level[1]) == 0)
        {
            Interlocked.Or(ref _hostPending, (int)Interrupts.SupervisorExternal);
            return false;
        }

        return true;
    }

    /// <summary>Makes a running <see cref="Run"/> return <see cref="ExitReason.Kicked"/> at its next block boundary. Thread-safe.</summary>
    public void Kick() => Interlocked.Or(ref _hostPending, KickBit);

    /// <summary>
    /// From another thread (SBI RFENCE, a remote FENCE.I): makes the hart drop its translations and
    /// decoded code before it executes another instruction, and return <see cref="ExitReason.Kicked"/>
    /// from a running <see cref="Run"/> so the caller knows it has been seen. Thread-safe.
    /// </summary>
    public void RequestTranslationFlush()
    {
        Interlocked.Or(ref _flushRequested, FlushCode);
        Kick();
    }

    /// <summary>
    /// From another thread (SBI remote SFENCE.VMA): makes the hart drop its TLB before it executes another
    /// instruction, as a local SFENCE.VMA does, and return <see cref="ExitReason.Kicked"/> from a running
    /// <see cref="Run"/>. Decoded code and translations stay: they are keyed by guest-physical frame, and the
    /// jump cache between translations is the fetch TLB itself, so a page-table change needs no more.
    /// (ASIDs are not implemented and a range is a whole flush: dropping 1024 entries costs less than the
    /// refills either way.) Thread-safe.
    /// </summary>
    public void RequestTlbFlush()
    {
        Interlocked.Or(ref _flushRequested, FlushTlbOnly);
        Kick();
    }

    /// <summary>Drops every cached translation and decoded page of this hart. Only on the hart's own thread.</summary>
    public void FlushTranslations()
    {
        _code.Flush();
        FlushTlb();
    }

    /// <summary>Drops the TLB alone, as SFENCE.VMA without an address does (see <see cref="RequestTlbFlush"/>). Only on the hart's own thread.</summary>
    public void FlushAddressTranslations() => FlushTlb();

    private int PendingBits()
    {
        var host = Volatile.Read(ref _hostPending);
        if ((host & (int)Interrupts.SupervisorSoftware) != 0)
        {
            Interlocked.And(ref _hostPending, ~(int)Interrupts.SupervisorSoftware);
            _softwarePending = (int)Interrupts.SupervisorSoftware;
        }

        return (host & HostInterruptMask) | _softwarePending;
    }

    /// <summary>Recomputes which pending bits can trap now: sie, gated by sstatus.SIE in S-mode (always on in U-mode).</summary>
    private void UpdateDeliverable()
    {
        var enabled = (int)_sie & 0x222;
        if (_privilege == Privilege.Supervisor && (_sstatus & SstatusSie) == 0)
        {
            enabled = 0;
        }

        _deliverable = enabled | KickBit;
    }

    private void FlushTlb()
    {
        var p = _tlbUser;
        for (var i = 0; i < 4 * Tlb.Entries; i++)
        {
            p[i].ReadTag = Tlb.Invalid;
            p[i].WriteTag = Tlb.Invalid;
            p[i].ExecTag = Tlb.Invalid;
            p[i].Code = null;
            p[i].Frame = ulong.MaxValue;
        }

        _tlbHasSuperpages = false;
        _statTlbFlushes++;
    }
}
