namespace Disagg.Netback.Switch;

/// <summary>
/// Where each source MAC was last seen: open addressing over fixed arrays, so learning and
/// lookup on the forwarding path allocate nothing. Entries older than the ageing time count as
/// unknown (the frame floods) and their slots are reused; a full table stops learning rather
/// than growing, so a guest spraying random source MACs cannot exhaust host memory.
/// </summary>
public sealed class MacTable
{
    private const ulong Empty = ulong.MaxValue;
    private readonly ulong[] _keys;
    private readonly int[] _ports;
    private readonly long[] _seen;
    private readonly int _mask;

    public MacTable(int capacity, long ageingNs)
    {
        var size = 1;
        while (size < capacity * 2)
        {
            size <<= 1;
        }

        _keys = new ulong[size];
        _ports = new int[size];
        _seen = new long[size];
        Array.Fill(_keys, Empty);
        _mask = size - 1;
        Capacity = capacity;
        AgeingNs = ageingNs;
    }

    public int Capacity { get; }

    public long AgeingNs { get; }

    public int Count { get; private set; }

    /// <summary>Records that <paramref name="mac"/> is behind <paramref name="port"/> as of <paramref name="nowNs"/>.</summary>
    public void Learn(MacAddress mac, int port, long nowNs)
    {
        var reuse = -1;
        for (int i = Hash(mac.Value), probes = 0; probes <= _mask; i = (i + 1) & _mask, probes++)
        {
            if (_keys[i] == mac.Value)
            {
                _ports[i] = port; // a guest that moved (or a MAC that moved ports) is relearned
                _seen[i] = nowNs;
                return;
            }

            if (_keys[i] == Empty)
            {
                if (reuse < 0 && Count >= Capacity)
                {
                    return; // full: keep flooding for this MAC rather than grow
                }

                Put(reuse >= 0 ? reuse : i, mac, port, nowNs, fresh: reuse < 0);
                return;
            }

            if (reuse < 0 && nowNs - _seen[i] > AgeingNs)
            {
                reuse = i; // an aged entry's slot, unless the MAC is found further on
            }
        }

        if (reuse >= 0)
        {
            Put(reuse, mac, port, nowNs, fresh: false);
        }
    }

    /// <summary>The port <paramref name="mac"/> was last seen behind, or -1 if unknown or aged out.</summary>
    public int Lookup(MacAddress mac, long nowNs)
    {
        for (int i = Hash(mac.Value), probes = 0; probes <= _mask; i = (i + 1) & _mask, probes++)
        {
            if (_keys[i] == mac.Value)
            {
                return nowNs - _seen[i] > AgeingNs ? -1 : _ports[i];
            }

            if (_keys[i] == Empty)
            {
                return -1;
            }
        }

        return -1;
    }

    /// <summary>Forgets every MAC behind a port (the vif went away or reconnected).</summary>
    public void ForgetPort(int port)
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] != Empty && _ports[i] == port)
            {
                _seen[i] = long.MinValue / 2; // aged: the slot is reused, probe chains stay intact
            }
        }
    }

    private int Hash(ulong v) => (int)((v * 0x9E3779B97F4A7C15UL) >> 40) & _mask;

    private void Put(int i, MacAddress mac, int port, long nowNs, bool fresh)
    {
        _keys[i] = mac.Value;
        _ports[i] = port;
        _seen[i] = nowNs;
        if (fresh)
        {
            Count++;
        }
    }
}
