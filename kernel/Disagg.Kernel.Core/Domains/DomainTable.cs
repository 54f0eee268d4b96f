namespace Disagg.Kernel.Core.Domains;

/// <summary>
/// Domain ids and what they name. Ids are handed out by a rover (the next free id after the last
/// one given, as Xen's domctl does), so a destroyed domain's id is not reused until the rover wraps and a stale
/// id in a toolstack or backend does not silently name a new guest. O(1) lookup; allocation is
/// amortized O(1) so creation time stays flat with thousands of domains.
/// </summary>
public sealed class DomainTable<T>
    where T : class
{
    /// <summary>Xen's DOMID_FIRST_RESERVED: ids at and above it are special (DOMID_SELF, ...).</summary>
    public const int FirstReserved = 0x7FF0;

    private readonly object _lock = new();
    private readonly T?[] _byId = new T?[FirstReserved];
    private readonly bool[] _reserved = new bool[FirstReserved];
    private int _next;
    private int _count;

    public DomainTable(int firstDynamicId = 1)
    {
        _next = firstDynamicId;
        FirstDynamicId = firstDynamicId;
    }

    public int FirstDynamicId { get; }

    public int Count => Volatile.Read(ref _count);

    public T? this[int domainId] => (uint)domainId < (uint)_byId.Length ? Volatile.Read(ref _byId[domainId]) : null;

    /// <summary>Claims a specific id (the control domain's 0, a registered service's); false if taken or reserved.</summary>
    public bool TryAdd(int domainId, T value)
    {
        if ((uint)domainId >= (uint)_byId.Length)
        {
            return false;
        }

        lock (_lock)
        {
            if (_byId[domainId] is not null || _reserved[domainId])
            {
                return false;
            }

            Volatile.Write(ref _byId[domainId], value);
            _count++;
            return true;
        }
    }

    /// <summary>Holds an id for something that is not a <typeparamref name="T"/> (a service domain), so the rover skips it.</summary>
    public bool TryReserve(int domainId)
    {
        if ((uint)domainId >= (uint)_byId.Length)
        {
            return false;
        }

        lock (_lock)
        {
            if (_byId[domainId] is not null || _reserved[domainId])
            {
                return false;
            }

            _reserved[domainId] = true;
            return true;
        }
    }

    public bool IsReserved(int domainId) => (uint)domainId < (uint)_reserved.Length && Volatile.Read(ref _reserved[domainId]);

    /// <summary>Picks the next free id and binds it to the object <paramref name="create"/> makes for it; -1 when all are used.</summary>
    public int Add(Func<int, T> create)
    {
        lock (_lock)
        {
            var span = FirstReserved - FirstDynamicId;
            for (var tried = 0; tried < span; tried++)
            {
                var id = _next;
                _next = _next + 1 >= FirstReserved ? FirstDynamicId : _next + 1;
                if (_byId[id] is null && !_reserved[id])
                {
                    Volatile.Write(ref _byId[id], create(id));
                    _count++;
                    return id;
                }
            }

            return -1;
        }
    }

    public bool Remove(int domainId, T value)
    {
        lock (_lock)
        {
            if ((uint)domainId >= (uint)_byId.Length || !ReferenceEquals(_byId[domainId], value))
            {
                return false;
            }

            Volatile.Write(ref _byId[domainId], null);
            _count--;
            return true;
        }
    }

    /// <summary>A snapshot of every domain, in id order.</summary>
    public List<T> Snapshot()
    {
        var all = new List<T>(Count);
        for (var i = 0; i < _byId.Length; i++)
        {
            if (Volatile.Read(ref _byId[i]) is { } d)
            {
                all.Add(d);
            }
        }

        return all;
    }
}
