namespace Disagg.Netback.DataPath;

/// <summary>
/// Frames held for a vif whose frontend had no rx buffer posted when they came (Linux netback's per-vif rx
/// queue): each in a copy-buffer page of the switch's backlog pool, delivered in order once buffers are posted.
/// Fixed arrays: nothing allocates after the vif is created.
/// </summary>
internal sealed class RxBacklog(int capacity)
{
    private readonly int[] _pages = new int[capacity];
    private readonly int[] _sizes = new int[capacity];
    private readonly ushort[] _flags = new ushort[capacity];
    private int _head;

    public int Count { get; private set; }

    public bool IsFull => Count == _pages.Length;

    /// <summary>Whether the vif is in the switch's list of vifs with a backlog.</summary>
    public bool Listed { get; set; }

    public void Enqueue(int page, int size, ushort flags)
    {
        var at = (_head + Count) % _pages.Length;
        _pages[at] = page;
        _sizes[at] = size;
        _flags[at] = flags;
        Count++;
    }

    public void Dequeue(out int page, out int size, out ushort flags)
    {
        page = _pages[_head];
        size = _sizes[_head];
        flags = _flags[_head];
        _head = (_head + 1) % _pages.Length;
        Count--;
    }
}
