using System.Buffers.Binary;

namespace Disagg.Netback.Switch;

/// <summary>
/// The frame that announces a MAC where it has just appeared: a RARP request from it to everyone (EtherType
/// 0x8035, op 3, sender and target hardware address the MAC, protocol addresses zero), as qemu's announce_self
/// sends after a migration. Every learning switch on its way, and a TAP uplink's physical network behind it,
/// learn the MAC's new port from it; nobody answers it.
/// </summary>
public static class Announcement
{
    public const ushort EtherTypeRarp = 0x8035;

    /// <summary>The frame's length: the Ethernet minimum (without FCS), RARP's 28 bytes padded with zeros.</summary>
    public const int Length = 60;

    /// <summary>Writes the announcement of <paramref name="mac"/> into the first <see cref="Length"/> bytes of <paramref name="frame"/>.</summary>
    public static void Write(MacAddress mac, Span<byte> frame)
    {
        frame = frame[..Length];
        frame.Clear();
        MacAddress.Broadcast.Write(frame);
        mac.Write(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherTypeRarp);
        var rarp = frame[Bridge.EthernetHeader..];
        BinaryPrimitives.WriteUInt16BigEndian(rarp, 1); // hardware: Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(rarp[2..], 0x0800); // protocol: IPv4
        rarp[4] = 6;
        rarp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(rarp[6..], 3); // RARP request (reverse)
        mac.Write(rarp[8..]); // sender hardware address; sender IP 0
        mac.Write(rarp[18..]); // target hardware address; target IP 0
    }
}
