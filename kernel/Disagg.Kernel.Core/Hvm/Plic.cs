namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// The platform-level interrupt controller of an HVM domain (SiFive PLIC 1.0.0; register map in
/// spec/hvm-platform.md, "PLIC"). One context per hart, its S-mode: the device tree lists only
/// `&lt;&amp;intcH 9&gt;` per hart, so context h is hart h. Sources are level-triggered: a device
/// asserts or deasserts its line (<see cref="SetLevel"/>); an asserted line becomes pending, a claim
/// takes the best pending enabled source above the context's threshold and clears its pending bit,
/// and the gateway forwards nothing more from that source until the id is written back to complete
/// — then a line still asserted is pending again. Each context's SEIP follows "has a claimable
/// source", raised and lowered through <paramref name="setExternalLine"/>.
/// Guest accesses and device lines come from different threads; one lock orders them (an interrupt
/// is a few accesses, not a data path).
/// </summary>
public sealed class Plic(int contexts, int sources, Action<int, bool> setExternalLine) : IMmioDevice
{
    private const ulong PendingBase = 0x1000;
    private const ulong EnableBase = 0x2000;
    private const ulong EnableStride = 0x80;
    private const ulong ContextBase = 0x20_0000;
    private const ulong ContextStride = 0x1000;

    /// <summary>Priorities 0..7, as QEMU's virt PLIC; writes keep the low 3 bits (WARL).</summary>
    private const uint PriorityMask = 7;

    private readonly object _lock = new();
    private readonly uint[] _priority = new uint[sources + 1];
    private readonly bool[] _level = new bool[sources + 1];
    private readonly bool[] _pending = new bool[sources + 1];
    private readonly bool[] _inService = new bool[sources + 1];
    private readonly uint[] _enable = new uint[contexts * Words(sources)];
    private readonly uint[] _threshold = new uint[contexts];
    private readonly bool[] _line = new bool[contexts];

    public int Contexts => contexts;

    public int Sources => sources;

    /// <summary>A device's interrupt line: true asserts it, false deasserts it. Source 1..Sources.</summary>
    public void SetLevel(int source, bool asserted)
    {
        if ((uint)(source - 1) >= (uint)sources)
        {
            throw new ArgumentOutOfRangeException(nameof(source), $"PLIC source {source} (1..{sources})");
        }

        lock (_lock)
        {
            _level[source] = asserted;
            if (asserted && !_inService[source])
            {
                _pending[source] = true;
            }

            UpdateLines();
        }
    }

    /// <summary>True while context <paramref name="context"/> has a source it could claim.</summary>
    public bool Claimable(int context)
    {
        lock (_lock)
        {
            return Best(context) != 0;
        }
    }

    public bool TryRead(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }

        lock (_lock)
        {
            if (offset < PendingBase)
            {
                var s = (int)(offset / 4);
                value = s <= sources ? _priority[s] : 0;
            }
            else if (offset < EnableBase)
            {
                var word = (int)((offset - PendingBase) / 4);
                value = word < Words(sources) ? PendingWord(word) : 0;
            }
            else if (offset < ContextBase)
            {
                var c = (int)((offset - EnableBase) / EnableStride);
                var word = (int)((offset - EnableBase) % EnableStride / 4);
                value = c < contexts && word < Words(sources) ? _enable[(c * Words(sources)) + word] : 0;
            }
            else
            {
                var c = (int)((offset - ContextBase) / ContextStride);
                var register = (offset - ContextBase) % ContextStride;
                if (c < contexts && register == 0)
                {
                    value = _threshold[c];
                }
                else if (c < contexts && register == 4)
                {
                    value = (uint)Claim(c);
                }
            }
        }

        return true;
    }

    public bool TryWrite(ulong offset, int size, ulong value)
    {
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }

        var v = (uint)value;
        lock (_lock)
        {
            if (offset < PendingBase)
            {
                var s = (int)(offset / 4);
                if (s >= 1 && s <= sources)
                {
                    _priority[s] = v & PriorityMask;
                }
            }
            else if (offset < EnableBase)
            {
                return true; // pending bits are read-only
            }
            else if (offset < ContextBase)
            {
                var c = (int)((offset - EnableBase) / EnableStride);
                var word = (int)((offset - EnableBase) % EnableStride / 4);
                if (c < contexts && word < Words(sources))
                {
                    // Source 0 does not exist, and bits past the last source are hard-wired to zero.
                    var valid = word == 0 ? ~1u : uint.MaxValue;
                    var last = sources - (word * 32);
                    if (last < 31)
                    {
                        valid &= (2u << last) - 1;
                    }

                    _enable[(c * Words(sources)) + word] = v & valid;
                }
            }
            else
            {
                var c = (int)((offset - ContextBase) / ContextStride);
                var register = (offset - ContextBase) % ContextStride;
                if (c < contexts && register == 0)
                {
                    _threshold[c] = v & PriorityMask;
                }
                else if (c < contexts && register == 4)
                {
                    Complete(c, v);
                }
            }

            UpdateLines();
        }

        return true;
    }

    /// <summary>A copy of the whole state, for a save (the domain is paused; a device's line may still move, under the lock).</summary>
    public PlicState Save()
    {
        lock (_lock)
        {
            return new PlicState(sources, contexts, [.. _priority], [.. _level], [.. _pending], [.. _inService], [.. _enable], [.. _threshold]);
        }
    }

    /// <summary>
    /// Takes a saved state back into a PLIC of the same shape and raises or lowers each context's SEIP as it says;
    /// values a guest could not have written (a priority or threshold over 7, source 0, bits past the last source)
    /// are <see cref="ArgumentException"/>, as a different shape is.
    /// </summary>
    public void Restore(PlicState state)
    {
        if (state.Sources != sources || state.Contexts != contexts || state.Priority.Length != sources + 1 || state.Level.Length != sources + 1
            || state.Pending.Length != sources + 1 || state.InService.Length != sources + 1 || state.Enable.Length != contexts * Words(sources)
            || state.Threshold.Length != contexts)
        {
            throw new ArgumentException($"a PLIC state of {state.Sources} sources and {state.Contexts} contexts does not fit a PLIC of {sources} and {contexts}");
        }

        if (state.Priority.Any(p => p > PriorityMask) || state.Threshold.Any(t => t > PriorityMask) || state.Priority[0] != 0
            || state.Level[0] || state.Pending[0] || state.InService[0])
        {
            throw new ArgumentException("a PLIC state with a priority or threshold over 7, or source 0 in use");
        }

        for (var c = 0; c < contexts; c++)
        {
            for (var w = 0; w < Words(sources); w++)
            {
                var valid = w == 0 ? ~1u : uint.MaxValue;
                var last = sources - (w * 32);
                if (last < 31)
                {
                    valid &= (2u << last) - 1;
                }

                if ((state.Enable[(c * Words(sources)) + w] & ~valid) != 0)
                {
                    throw new ArgumentException($"a PLIC state enabling a source that does not exist (context {c}, word {w})");
                }
            }
        }

        lock (_lock)
        {
            state.Priority.CopyTo(_priority, 0);
            state.Level.CopyTo(_level, 0);
            state.Pending.CopyTo(_pending, 0);
            state.InService.CopyTo(_inService, 0);
            state.Enable.CopyTo(_enable, 0);
            state.Threshold.CopyTo(_threshold, 0);

            // A new PLIC's lines are all low: make each context's SEIP what the restored state says.
            for (var c = 0; c < contexts; c++)
            {
                var high = Best(c) != 0;
                _line[c] = high;
                setExternalLine(c, high);
            }
        }
    }

    private static int Words(int sources) => (sources + 1 + 31) / 32;

    private uint PendingWord(int word)
    {
        uint bits = 0;
        for (var b = 0; b < 32; b++)
        {
            var s = (word * 32) + b;
            if (s <= sources && _pending[s])
            {
                bits |= 1u << b;
            }
        }

        return bits;
    }

    private bool Enabled(int context, int source) =>
        (_enable[(context * Words(sources)) + (source / 32)] & (1u << (source % 32))) != 0;

    /// <summary>The highest-priority pending enabled source above the threshold (ties: the lowest id); 0 if none.</summary>
    private int Best(int context)
    {
        var best = 0;
        uint bestPriority = 0;
        for (var s = 1; s <= sources; s++)
        {
            if (_pending[s] && _priority[s] > _threshold[context] && _priority[s] > bestPriority && Enabled(context, s))
            {
                best = s;
                bestPriority = _priority[s];
            }
        }

        return best;
    }

    private int Claim(int context)
    {
        var s = Best(context);
        if (s != 0)
        {
            _pending[s] = false;
            _inService[s] = true;
        }

        UpdateLines();
        return s;
    }

    /// <summary>Completion re-opens the gateway; an id that is not in service or not enabled here is ignored (the spec's rule).</summary>
    private void Complete(int context, uint source)
    {
        if (source == 0 || source > (uint)sources || !_inService[source] || !Enabled(context, (int)source))
        {
            return;
        }

        _inService[source] = false;
        if (_level[source])
        {
            _pending[source] = true;
        }
    }

    private void UpdateLines()
    {
        for (var c = 0; c < contexts; c++)
        {
            var high = Best(c) != 0;
            if (high != _line[c])
            {
                _line[c] = high;
                setExternalLine(c, high);
            }
        }
    }
}
