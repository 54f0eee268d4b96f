namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// Which guest integer registers live in host registers while one block runs: a per-block allocation
/// (QEMU's approach for its globals), chosen by how often the block uses each register. The block's entry
/// (what a chained jump enters) loads the allocated registers from the register file, and every way out of
/// the block (the epilogue, a chained jump to another block) stores back those the block may write, so
/// outside a block the register file is always the whole truth. A loop onto the block's own start jumps
/// past the loads: a hot loop keeps its variables in host registers for as long as it runs.
/// <para>
/// The host registers are every one the block does not need for itself: rax, rcx, rdx are scratch (rcx for
/// shift counts, rdx:rax for wide multiply and divide), rdi holds the register file, r9 the instruction
/// limit and r10 the soft TLB's base. Callee-saved ones (rbx, rbp, r12-r15) are pushed by the prologue and
/// popped by the epilogue.
/// </para>
/// </summary>
internal sealed class GuestRegisterMap
{
    /// <summary>Host registers a block may give to guest registers, in the order they are handed out.</summary>
    public static readonly X64Register[] Pool =
    [
        X64Register.Rbx, X64Register.Rbp, X64Register.R12, X64Register.R13, X64Register.R14, X64Register.R15,
        X64Register.Rsi, X64Register.R11, X64Register.R8,
    ];

    /// <summary>Host registers the System V ABI says a callee must preserve; the block saves them.</summary>
    public static readonly X64Register[] CalleeSaved =
    [
        X64Register.Rbx, X64Register.Rbp, X64Register.R12, X64Register.R13, X64Register.R14, X64Register.R15,
    ];

    private readonly X64Register?[] _hostOf = new X64Register?[33];
    private readonly int[] _guests = new int[9];
    private readonly bool[] _written = new bool[9];
    private readonly int[] _uses = new int[32];
    private readonly bool[] _writes = new bool[32];

    /// <summary>How many guest registers the current block has in host registers.</summary>
    public int Count { get; private set; }

    /// <summary>The i-th allocated guest register and its host register.</summary>
    public (int Guest, X64Register Host) this[int i] => (_guests[i], Pool[i]);

    /// <summary>True when the block may write the i-th allocated register (it is stored back on the way out).</summary>
    public bool Written(int i) => _written[i];

    /// <summary>Forgets the previous block's uses and allocation.</summary>
    public void Clear()
    {
        Array.Clear(_uses);
        Array.Clear(_writes);
        Array.Clear(_hostOf);
        Count = 0;
    }

    /// <summary>Counts one use of guest register <paramref name="r"/> (x0 and the sink are never allocated).</summary>
    public void Use(int r, bool write)
    {
        if (r is > 0 and < 32)
        {
            _uses[r]++;
            _writes[r] |= write;
        }
    }

    /// <summary>Gives host registers to the most used guest registers used at least <paramref name="minimumUses"/> times.</summary>
    public void Allocate(int minimumUses)
    {
        while (Count < Pool.Length)
        {
            var best = 0;
            for (var r = 1; r < 32; r++)
            {
                if (_uses[r] >= minimumUses && _uses[r] > _uses[best] && _hostOf[r] is null)
                {
                    best = r;
                }
            }

            if (best == 0)
            {
                return;
            }

            _hostOf[best] = Pool[Count];
            _guests[Count] = best;
            _written[Count] = _writes[best];
            Count++;
        }
    }

    /// <summary>True when guest register <paramref name="guest"/> (0-32, 32 being the x0 write sink) lives in a host register in this block.</summary>
    public bool TryHost(int guest, out X64Register host)
    {
        if ((uint)guest < (uint)_hostOf.Length && _hostOf[guest] is { } h)
        {
            host = h;
            return true;
        }

        host = default;
        return false;
    }
}
