using Disagg.Netback.Switch;

namespace Disagg.Netback.Tests;

/// <summary>The RARP a migrated guest's vif announces its MAC with (qemu's announce_self frame), byte for byte.</summary>
public class AnnouncementTests
{
    [Fact]
    public void TheFrameIsARarpRequestFromTheMacToEveryonePaddedToTheEthernetMinimum()
    {
        var mac = MacAddress.Parse("00:16:3e:01:02:03");
        var frame = new byte[100];
        frame.AsSpan().Fill(0xEE); // stale bytes of an earlier frame must not leave
        Announcement.Write(mac, frame);
        byte[] m = [0x00, 0x16, 0x3e, 0x01, 0x02, 0x03];
        byte[] expected =
        [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, .. m, 0x80, 0x35, // broadcast, from the MAC, RARP
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03, // Ethernet, IPv4, hlen, plen, op 3 (reverse request)
            .. m, 0, 0, 0, 0, .. m, 0, 0, 0, 0, // sender and target: the MAC, no IP
            .. new byte[18], // padding to 60
        ];
        Assert.Equal(Announcement.Length, expected.Length);
        Assert.Equal(expected, frame[..Announcement.Length]);
        Assert.All(frame[Announcement.Length..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void TheBridgeLearnsTheMacFromItAndFloodsItToEveryOtherPort()
    {
        var bridge = new Bridge("br0");
        var mac = MacAddress.Parse("00:16:3e:01:02:03");
        var guest = bridge.AddVif("vif1.0", mac);
        var peer = bridge.AddVif("vif2.0", MacAddress.Parse("00:16:3e:01:02:04"));
        var uplink = bridge.AddUplink("tap0");
        var frame = new byte[Announcement.Length];
        Announcement.Write(mac, frame);
        var destinations = new int[4];
        Assert.Equal(ForwardResult.Flooded, bridge.Forward(guest, frame, 0, destinations, out var count));
        Assert.Equal([peer.Index, uplink.Index], destinations[..count]);
        Assert.Equal(1, bridge.LearnedMacs);

        // A unicast to the MAC now goes to its port alone.
        var reply = new byte[60];
        mac.Write(reply);
        MacAddress.Parse("00:16:3e:01:02:04").Write(reply.AsSpan(6));
        Assert.Equal(ForwardResult.Unicast, bridge.Forward(peer, reply, 0, destinations, out count));
        Assert.Equal([guest.Index], destinations[..count]);
    }
}
