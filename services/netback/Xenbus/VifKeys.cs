using System.Globalization;
using Disagg.Netback.DataPath;
using Disagg.Netback.Switch;
using Disagg.Xenbus;
using Disagg.Xenbus.Backend;

namespace Disagg.Netback.Xenbus;

/// <summary>
/// The xenstore keys of a vif (spec §9, docs/NETBACK.md): what the toolstack writes under the backend
/// directory, what we publish there, and what the frontend writes under its own directory.
/// </summary>
public static class VifKeys
{
    public const string DefaultBridge = "xenbr0";

    /// <summary>What we offer, written before InitWait (Xen netback's names and meanings).</summary>
    public static readonly IReadOnlyList<(string Key, string Value)> Features =
    [
        ("feature-rx-copy", "1"),
        ("feature-rx-flip", "0"),
        ("feature-sg", "0"),
        ("feature-gso-tcpv4", "0"),
        ("feature-gso-tcpv6", "0"),
        ("feature-split-event-channels", "1"),
        ("feature-multicast-control", "0"),
        ("multi-queue-max-queues", "1"),
    ];

    /// <summary>The vif's settings from its backend directory.</summary>
    public static async Task<VifSettings> ReadSettingsAsync(XenstoreClient xs, XenbusDevice vif, CancellationToken cancel)
    {
        var backend = vif.BackendPath;
        var bridge = await xs.ReadAsync(XenstoreClient.NoTransaction, backend + "/bridge", cancel).ConfigureAwait(false) ?? DefaultBridge;
        var macText = await xs.ReadAsync(XenstoreClient.NoTransaction, backend + "/mac", cancel).ConfigureAwait(false)
            ?? throw new XenbusDeviceException(vif, $"{backend}/mac is missing");
        MacAddress mac;
        try
        {
            mac = MacAddress.Parse(macText);
        }
        catch (FormatException e)
        {
            throw new XenbusDeviceException(vif, $"{backend}/mac '{macText}' is not a MAC address", e);
        }

        if (mac.IsGroup || mac.IsZero)
        {
            throw new XenbusDeviceException(vif, $"{backend}/mac {mac} is not a unicast address");
        }

        var mtuText = await xs.ReadAsync(XenstoreClient.NoTransaction, backend + "/mtu", cancel).ConfigureAwait(false);
        var mtu = 1500;
        if (mtuText is not null && (!int.TryParse(mtuText, NumberStyles.None, CultureInfo.InvariantCulture, out mtu) || mtu < 68 || mtu > VifSettings.MaxMtu))
        {
            throw new XenbusDeviceException(vif, $"{backend}/mtu '{mtuText}' is not an MTU between 68 and {VifSettings.MaxMtu} (no feature-sg: a frame fits one page)");
        }

        long bytes = 0, micros = 0;
        var rate = await xs.ReadAsync(XenstoreClient.NoTransaction, backend + "/rate", cancel).ConfigureAwait(false);
        if (rate is not null && !TryParseRate(rate, out bytes, out micros))
        {
            throw new XenbusDeviceException(vif, $"{backend}/rate '{rate}' is not BYTES,MICROSECONDS (libxl's form of xl rate=)");
        }

        // The toolstack's mark on a guest that arrived (restored, migrated): announce its MAC when it connects.
        var announce = await xs.ReadAsync(XenstoreClient.NoTransaction, backend + "/announce", cancel).ConfigureAwait(false) == "1";
        return new VifSettings(bridge, mac, mtu, bytes, micros, announce);
    }

    /// <summary>libxl's "rate" node: bytes per interval and the interval in microseconds, comma-separated.</summary>
    public static bool TryParseRate(string text, out long bytesPerInterval, out long intervalUs)
    {
        bytesPerInterval = intervalUs = 0;
        var comma = text.IndexOf(',', StringComparison.Ordinal);
        return comma > 0
            && long.TryParse(text.AsSpan(0, comma), NumberStyles.None, CultureInfo.InvariantCulture, out bytesPerInterval)
            && long.TryParse(text.AsSpan(comma + 1), NumberStyles.None, CultureInfo.InvariantCulture, out intervalUs)
            && bytesPerInterval > 0 && intervalUs > 0;
    }

    /// <summary>What the frontend wrote to connect: ring references and event channel(s).</summary>
    public static async Task<FrontendRings> ReadRingsAsync(XenstoreClient xs, XenbusDevice vif, CancellationToken cancel)
    {
        var frontend = vif.FrontendPath;
        async Task<uint?> Number(string key)
        {
            var text = await xs.ReadAsync(XenstoreClient.NoTransaction, frontend + "/" + key, cancel).ConfigureAwait(false);
            if (text is null)
            {
                return null;
            }

            return uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new XenbusDeviceException(vif, $"{frontend}/{key} '{text}' is not a number");
        }

        var tx = await Number("tx-ring-ref").ConfigureAwait(false) ?? throw new XenbusDeviceException(vif, $"{frontend}/tx-ring-ref is missing");
        var rx = await Number("rx-ring-ref").ConfigureAwait(false) ?? throw new XenbusDeviceException(vif, $"{frontend}/rx-ring-ref is missing");
        var rxCopy = await Number("request-rx-copy").ConfigureAwait(false);
        if (rxCopy != 1)
        {
            throw new XenbusDeviceException(vif, $"{frontend}/request-rx-copy is not 1: page flipping is not offered (feature-rx-flip=0)");
        }

        var single = await Number("event-channel").ConfigureAwait(false);
        uint txPort, rxPort;
        if (single is { } p)
        {
            txPort = rxPort = p;
        }
        else
        {
            txPort = await Number("event-channel-tx").ConfigureAwait(false) ?? throw new XenbusDeviceException(vif, $"{frontend}/event-channel (or event-channel-tx/-rx) is missing");
            rxPort = await Number("event-channel-rx").ConfigureAwait(false) ?? throw new XenbusDeviceException(vif, $"{frontend}/event-channel-rx is missing");
        }

        if (txPort == 0 || rxPort == 0 || txPort >= Abi.Boot.SharedInfo.MaxPorts || rxPort >= Abi.Boot.SharedInfo.MaxPorts)
        {
            throw new XenbusDeviceException(vif, $"event channel {txPort}/{rxPort} is not a port");
        }

        return new FrontendRings(tx, rx, (int)txPort, (int)rxPort);
    }
}

/// <summary>The frontend's connection keys: tx/rx ring grant references and its event port(s).</summary>
public readonly record struct FrontendRings(uint TxRef, uint RxRef, int TxPort, int RxPort);
