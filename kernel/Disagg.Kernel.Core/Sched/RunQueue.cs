namespace Disagg.Kernel.Core.Sched;

/// <summary>A FIFO of runnable vCPUs of one priority on one pCPU, linked through the vCPUs themselves.</summary>
internal sealed class RunQueue
{
    private SchedVcpu? _head;
    private SchedVcpu? _tail;

    public int Count { get; private set; }

    public SchedVcpu? Head => _head;

    public void PushBack(SchedVcpu v)
    {
        v.Queue = this;
        v.Prev = _tail;
        v.Next = null;
        if (_tail is null)
        {
            _head = v;
        }
        else
        {
            _tail.Next = v;
        }

        _tail = v;
        Count++;
    }

    public void Remove(SchedVcpu v)
    {
        if (v.Prev is null)
        {
            _head = v.Next;
        }
        else
        {
            v.Prev.Next = v.Next;
        }

        if (v.Next is null)
        {
            _tail = v.Prev;
        }
        else
        {
            v.Next.Prev = v.Prev;
        }

        v.Prev = v.Next = null;
        v.Queue = null;
        Count--;
    }

    /// <summary>
    /// The vCPU with the most credit that may run on <paramref name="pcpu"/>; among equals the one
    /// queued first. Choosing by credit, not only by class, brings shares back quickly after a
    /// host stall has pushed everyone OVER (plain round-robin would split 1:1 until then).
    /// </summary>
    public SchedVcpu? BestFor(int pcpu)
    {
        SchedVcpu? best = null;
        for (var v = _head; v is not null; v = v.Next)
        {
            if (v.MayRunOn(pcpu) && (best is null || v.CreditNs > best.CreditNs))
            {
                best = v;
            }
        }

        return best;
    }
}
