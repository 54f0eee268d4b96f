namespace Disagg.Netback.Switch;

/// <summary>
/// A learning L2 switch: one per named bridge (xl's vif bridge=). A frame is checked (size,
/// source MAC for vifs), its source learned, and sent to the port owning its destination, or
/// flooded to every other port when the destination is a group address or unknown. A frame
/// never goes back to the port it came from, and never leaves its bridge. One thread forwards;
/// the path allocates nothing.
/// </summary>
public sealed class Bridge
{
    public const int EthernetHeader = 14;
    public const int VlanTag = 4;
    public static readonly long DefaultAgeingNs = 300L * 1_000_000_000; // Linux bridge's default

    private readonly List<SwitchPort> _ports = [];
    private readonly MacTable _macs;

    public Bridge(string name, int macCapacity = 4096, long? ageingNs = null)
    {
        Name = name;
        _macs = new MacTable(macCapacity, ageingNs ?? DefaultAgeingNs);
    }

    public string Name { get; }

    public IReadOnlyList<SwitchPort> Ports => _ports;

    public int LearnedMacs => _macs.Count;

    public SwitchPort AddVif(string name, MacAddress mac, int mtu = 1500, TokenBucket? rateLimit = null)
    {
        if (mac.IsGroup || mac.IsZero)
        {
            throw new ArgumentException($"vif {name}: {mac} is not a unicast MAC", nameof(mac));
        }

        return Add(name, mac, mtu, rateLimit);
    }

    public SwitchPort AddUplink(string name, int mtu = 1500) => Add(name, null, mtu, null);

    /// <summary>Detaches a port; frames to its MACs flood again until relearned elsewhere.</summary>
    public void RemovePort(SwitchPort port)
    {
        port.Attached = false;
        _macs.ForgetPort(port.Index);
    }

    /// <summary>
    /// Decides where <paramref name="frame"/>, sent by <paramref name="source"/>, goes: fills
    /// <paramref name="destinations"/> (at least <see cref="Ports"/>.Count long) with port
    /// indices and sets <paramref name="count"/>.
    /// </summary>
    public ForwardResult Forward(SwitchPort source, ReadOnlySpan<byte> frame, long nowNs, Span<int> destinations, out int count)
    {
        count = 0;
        var stats = source.Statistics;
        if (frame.Length < EthernetHeader || frame.Length > EthernetHeader + VlanTag + source.Mtu)
        {
            stats.Errors++;
            return ForwardResult.Malformed;
        }

        var dst = MacAddress.Read(frame);
        var src = MacAddress.Read(frame[6..]);
        if (source.AllowedSource is { } allowed ? src != allowed : src.IsGroup)
        {
            stats.Spoofed++;
            stats.Drops++;
            return ForwardResult.Spoofed;
        }

        stats.RxFrames++;
        stats.RxBytes += frame.Length;
        _macs.Learn(src, source.Index, nowNs);

        if (!dst.IsGroup)
        {
            var port = _macs.Lookup(dst, nowNs);
            if (port >= 0 && _ports[port].Attached)
            {
                if (port == source.Index)
                {
                    stats.Drops++;
                    return ForwardResult.Filtered;
                }

                destinations[0] = port;
                count = 1;
                return ForwardResult.Unicast;
            }
        }

        foreach (var p in _ports)
        {
            if (p.Attached && p.Index != source.Index)
            {
                destinations[count++] = p.Index;
            }
        }

        return ForwardResult.Flooded;
    }

    /// <summary>Counts a frame the caller delivered to a port (copied into its guest's rx ring, or written to the TAP).</summary>
    public void RecordDelivered(int port, int bytes)
    {
        var s = _ports[port].Statistics;
        s.TxFrames++;
        s.TxBytes += bytes;
    }

    /// <summary>Counts a frame the caller could not deliver to a port (its rx ring was full).</summary>
    public void RecordDropped(int port) => _ports[port].Statistics.Drops++;

    /// <summary>The port with index <paramref name="port"/> (as <see cref="Forward"/> reports it).</summary>
    public SwitchPort Port(int port) => _ports[port];

    private SwitchPort Add(string name, MacAddress? mac, int mtu, TokenBucket? rateLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 68);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mtu, 65535);
        var port = new SwitchPort(_ports.Count, name, mac, mtu, rateLimit);
        _ports.Add(port);
        return port;
    }
}
