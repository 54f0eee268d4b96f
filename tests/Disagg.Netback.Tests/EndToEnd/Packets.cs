using System.Buffers.Binary;
using System.Net;
using Disagg.TestSupport.Netif;

namespace Disagg.Netback.Tests.EndToEnd;

/// <summary>Frames the end-to-end tests send and the matchers that recognise their answers.</summary>
internal static class Packets
{
    public static byte[] ArpRequest(byte[] fromMac, string fromIp, string forIp) =>
        Frames.Arp(1, fromMac, IPAddress.Parse(fromIp), new byte[6], IPAddress.Parse(forIp), Frames.Broadcast);

    public static byte[] Ping(byte[] fromMac, string fromIp, byte[] toMac, string toIp, ushort seq, int payload = 56) =>
        Frames.Ethernet(toMac, fromMac, Frames.EtherIpv4, Frames.Ipv4(IPAddress.Parse(fromIp), IPAddress.Parse(toIp), 1, Frames.IcmpEcho(8, 0x4242, seq, new byte[payload])));

    public static bool IsArpReply(byte[] f) => f.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == Frames.EtherArp && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(20)) == 2;

    public static bool IsEchoReply(byte[] f, ushort seq) =>
        f.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == Frames.EtherIpv4 && f[23] == 1 && f[34] == 0 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(40)) == seq;

    public static bool IsEchoReply(byte[] f) =>
        f.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == Frames.EtherIpv4 && f[23] == 1 && f[34] == 0;

    public static ushort EchoSeq(byte[] f) => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(40));
}
