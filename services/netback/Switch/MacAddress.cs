using System.Buffers.Binary;
using System.Globalization;

namespace Disagg.Netback.Switch;

/// <summary>A 48-bit Ethernet address held in the low bits of a ulong, so tables key on an integer.</summary>
public readonly record struct MacAddress(ulong Value)
{
    public static readonly MacAddress Broadcast = new(0xFFFF_FFFF_FFFF);

    /// <summary>The group bit (least significant bit of the first octet): broadcast and multicast.</summary>
    public bool IsGroup => (Value & (1UL << 40)) != 0;

    public bool IsZero => Value == 0;

    public static MacAddress Read(ReadOnlySpan<byte> sixBytes) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(sixBytes) << 32) | BinaryPrimitives.ReadUInt32BigEndian(sixBytes[2..]));

    public static MacAddress Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 6)
        {
            throw new FormatException($"'{text}' is not a MAC address (six hex octets)");
        }

        ulong v = 0;
        foreach (var p in parts)
        {
            v = (v << 8) | byte.Parse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        return new MacAddress(v);
    }

    public void Write(Span<byte> sixBytes)
    {
        BinaryPrimitives.WriteUInt16BigEndian(sixBytes, (ushort)(Value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(sixBytes[2..], (uint)Value);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(byte)(Value >> 40):x2}:{(byte)(Value >> 32):x2}:{(byte)(Value >> 24):x2}:{(byte)(Value >> 16):x2}:{(byte)(Value >> 8):x2}:{(byte)Value:x2}");
}
