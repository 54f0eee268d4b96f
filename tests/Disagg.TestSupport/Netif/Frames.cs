using System.Buffers.Binary;
using System.Net;

namespace Disagg.TestSupport.Netif;

/// <summary>Ethernet frames for tests: ARP, IPv4 ICMP echo and UDP, with correct checksums (the Linux host checks them).</summary>
public static class Frames
{
    public const ushort EtherArp = 0x0806;
    public const ushort EtherIpv4 = 0x0800;
    public static readonly byte[] Broadcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    public static byte[] Mac(string text) => text.Split(':').Select(h => Convert.ToByte(h, 16)).ToArray();

    public static byte[] Ethernet(ReadOnlySpan<byte> dst, ReadOnlySpan<byte> src, ushort type, ReadOnlySpan<byte> payload)
    {
        var f = new byte[14 + payload.Length];
        dst.CopyTo(f);
        src.CopyTo(f.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), type);
        payload.CopyTo(f.AsSpan(14));
        return f;
    }

    /// <summary>An ARP request (op 1) or reply (op 2).</summary>
    public static byte[] Arp(ushort op, ReadOnlySpan<byte> senderMac, IPAddress senderIp, ReadOnlySpan<byte> targetMac, IPAddress targetIp, ReadOnlySpan<byte> ethDst)
    {
        var a = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(a, 1); // Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(a.AsSpan(2), EtherIpv4);
        a[4] = 6;
        a[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(a.AsSpan(6), op);
        senderMac.CopyTo(a.AsSpan(8));
        senderIp.GetAddressBytes().CopyTo(a.AsSpan(14));
        targetMac.CopyTo(a.AsSpan(18));
        targetIp.GetAddressBytes().CopyTo(a.AsSpan(24));
        return Ethernet(ethDst, senderMac, EtherArp, a);
    }

    public static byte[] Ipv4(IPAddress src, IPAddress dst, byte protocol, ReadOnlySpan<byte> payload)
    {
        var p = new byte[20 + payload.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        p[8] = 64;
        p[9] = protocol;
        src.GetAddressBytes().CopyTo(p.AsSpan(12));
        dst.GetAddressBytes().CopyTo(p.AsSpan(16));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum(p.AsSpan(0, 20)));
        payload.CopyTo(p.AsSpan(20));
        return p;
    }

    /// <summary>ICMP echo request (type 8) or reply (type 0).</summary>
    public static byte[] IcmpEcho(byte type, ushort id, ushort seq, ReadOnlySpan<byte> data)
    {
        var m = new byte[8 + data.Length];
        m[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(6), seq);
        data.CopyTo(m.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum(m));
        return m;
    }

    /// <summary>A UDP datagram without a checksum (0: allowed for IPv4).</summary>
    public static byte[] Udp(ushort srcPort, ushort dstPort, ReadOnlySpan<byte> data)
    {
        var u = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt16BigEndian(u, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
        data.CopyTo(u.AsSpan(8));
        return u;
    }

    public static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (var i = 0; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (data.Length % 2 == 1)
        {
            sum += (uint)data[^1] << 8;
        }

        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    /// <summary>
    /// What a tiny host answers: an ARP request for <paramref name="ip"/> gets a reply, an ICMP echo request to it an
    /// echo reply; anything else null.
    /// </summary>
    public static byte[]? Answer(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> mac, IPAddress ip)
    {
        if (frame.Length < 14)
        {
            return null;
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        var ipBytes = ip.GetAddressBytes();
        if (type == EtherArp && frame.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(frame[20..]) == 1 && frame.Slice(38, 4).SequenceEqual(ipBytes))
        {
            var senderMac = frame.Slice(22, 6);
            var senderIp = new IPAddress(frame.Slice(28, 4));
            return Arp(2, mac, ip, senderMac, senderIp, senderMac);
        }

        if (type == EtherIpv4 && frame.Length >= 34 + 8 && frame[23] == 1 && frame.Slice(30, 4).SequenceEqual(ipBytes))
        {
            var ihl = (frame[14] & 0xf) * 4;
            var total = BinaryPrimitives.ReadUInt16BigEndian(frame[16..]);
            var icmp = frame.Slice(14 + ihl, total - ihl);
            if (icmp[0] != 8)
            {
                return null;
            }

            var reply = IcmpEcho(0, BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]), BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]), icmp[8..]);
            var src = new IPAddress(frame.Slice(26, 4));
            return Ethernet(frame.Slice(6, 6), mac, EtherIpv4, Ipv4(ip, src, 1, reply));
        }

        return null;
    }
}
