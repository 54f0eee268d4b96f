using System.Collections;
using System.Reflection;
using Disagg.Control;
using Disagg.Control.Messages;
using PolyType;
using PolyType.Abstractions;

namespace Disagg.Control.Tests;

/// <summary>
/// The generated codec (tools/gen-control-wire.py) against Nerdbank.MessagePack's union serializer, the
/// reference it replaces at run time: every case, with random, extreme and default values, must give the
/// same bytes both ways and read back what the reference wrote.
/// </summary>
public class ControlWireTests
{
    private static readonly Nerdbank.MessagePack.MessagePackSerializer Reference = new();

    [Fact]
    public void TheCodecKnowsExactlyTheUnionsCases()
    {
        var union = (IUnionTypeShape)ControlWitness.GeneratedTypeShapeProvider.GetTypeShapeOrThrow(typeof(ControlMessage));
        var expected = union.UnionCases.Select(c => (c.Tag, c.UnionCaseType.Type)).OrderBy(c => c.Tag).ToArray();
        Assert.Equal(expected, ControlWire.Cases.OrderBy(c => c.Tag).ToArray());
    }

    public static TheoryData<string, int> CasesAndSeeds()
    {
        var data = new TheoryData<string, int>();
        foreach (var (_, type) in ControlWire.Cases)
        {
            foreach (var seed in new[] { 0, 1, 2, 3 })
            {
                data.Add(type.Name, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CasesAndSeeds))]
    public void EveryCaseWritesAndReadsWhatTheUnionDoes(string name, int seed)
    {
        var type = ControlWire.Cases.Single(c => c.Type.Name == name).Type;
        var message = (ControlMessage)Instance(type, new Random(seed), seed);
        if (seed != 0)
        {
            message = message with { Id = seed == 3 ? long.MinValue : new Random(seed).NextInt64() };
        }

        var reference = Reference.Serialize<ControlMessage, ControlWitness>(message);
        var ours = ControlCodec.Encode(message)[ControlCodec.HeaderSize..];
        Assert.Equal(Convert.ToHexString(reference), Convert.ToHexString(ours));

        var framed = ControlCodec.Encode(message);
        reference.CopyTo(framed, ControlCodec.HeaderSize);
        Assert.Equal(FrameStatus.Message, ControlCodec.TryDecode(framed, out var back, out _, out var error));
        Assert.Null(error);
        Assert.Equal(type, back!.GetType());
        Assert.Equal(reference, Reference.Serialize<ControlMessage, ControlWitness>(back));
    }

    [Fact]
    public void AMissingFieldANilStringAndAnArrayLongerThanItsBytesAreViolations()
    {
        // {Token: "x"} without ProtocolVersion; {Token: nil, ProtocolVersion: 1}; GrantCopyResult {Status: array32 of 2^31}.
        byte[][] payloads =
        [
            [0x92, 0x01, 0x81, 0xA5, (byte)'T', (byte)'o', (byte)'k', (byte)'e', (byte)'n', 0xA1, (byte)'x'],
            [0x92, 0x01, 0x82, 0xA5, (byte)'T', (byte)'o', (byte)'k', (byte)'e', (byte)'n', 0xC0, 0xAF, .. "ProtocolVersion"u8.ToArray(), 0x01],
            [0x92, 0x3D, 0x81, 0xA6, .. "Status"u8.ToArray(), 0xDD, 0x80, 0x00, 0x00, 0x00],
        ];
        foreach (var payload in payloads)
        {
            var frame = new byte[ControlCodec.HeaderSize + payload.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
            payload.CopyTo(frame, ControlCodec.HeaderSize);
            Assert.Equal(FrameStatus.ProtocolViolation, ControlCodec.TryDecode(frame, out var message, out _, out var error));
            Assert.Null(message);
            Assert.StartsWith("undecodable control message", error);
        }
    }

    [Fact]
    public void UnknownFieldsAreSkipped()
    {
        // OkReply {Extra: [1, {a: 2}], Id: 5}: a newer peer's field is ignored, as the union serializer does.
        byte[] payload = [0x92, 0x03, 0x82, 0xA5, .. "Extra"u8.ToArray(), 0x92, 0x01, 0x81, 0xA1, (byte)'a', 0x02, 0xA2, (byte)'I', (byte)'d', 0x05];
        var frame = new byte[ControlCodec.HeaderSize + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame, ControlCodec.HeaderSize);
        Assert.Equal(FrameStatus.Message, ControlCodec.TryDecode(frame, out var message, out _, out var error));
        Assert.Null(error);
        Assert.Equal(new OkReply { Id = 5 }, message);
    }

    // Seed 0: every value its default (0, false, "", empty, null where allowed); others random, seed 3 extremes.
    private static object Instance(Type type, Random random, int seed)
    {
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var args = ctor.GetParameters().Select(p => Value(p.ParameterType, IsNullable(p), random, seed)).ToArray();
        return ctor.Invoke(args);
    }

    private static bool IsNullable(ParameterInfo p) =>
        new NullabilityInfoContext().Create(p).WriteState == NullabilityState.Nullable;

    private static object? Value(Type t, bool nullable, Random random, int seed)
    {
        var zero = seed == 0;
        var extreme = seed == 3;
        if (nullable && (zero || random.Next(3) == 0))
        {
            return null;
        }

        var u = Nullable.GetUnderlyingType(t);
        if (u is not null)
        {
            return Value(u, false, random, seed);
        }

        if (t.IsEnum)
        {
            var values = Enum.GetValues(t);
            return zero ? Activator.CreateInstance(t) : values.GetValue(random.Next(values.Length));
        }

        if (t == typeof(string))
        {
            return zero ? "" : extreme ? new string('\u00e9', 300) : "s" + random.Next();
        }

        if (t == typeof(byte[]))
        {
            var bytes = new byte[zero ? 0 : extreme ? 70_000 : random.Next(1, 40)];
            random.NextBytes(bytes);
            return bytes;
        }

        if (t == typeof(bool))
        {
            return !zero && random.Next(2) == 1;
        }

        if (t.IsPrimitive)
        {
            if (zero)
            {
                return Convert.ChangeType(0, t, System.Globalization.CultureInfo.InvariantCulture);
            }

            if (extreme)
            {
                var field = random.Next(2) == 0 ? "MinValue" : "MaxValue";
                return t.GetField(field)!.GetValue(null);
            }

            var raw = new byte[8];
            random.NextBytes(raw);
            var size = System.Runtime.InteropServices.Marshal.SizeOf(t);
            var shift = random.Next(size * 8);
            var v = BitConverter.ToUInt64(raw) >> shift; // small and large magnitudes, every msgpack int width
            return t == typeof(long) || t == typeof(int) || t == typeof(short)
                ? Convert.ChangeType(unchecked((long)v) * (random.Next(2) == 0 ? 1 : -1) % (t == typeof(long) ? long.MaxValue : t == typeof(int) ? int.MaxValue : short.MaxValue), t, System.Globalization.CultureInfo.InvariantCulture)
                : Convert.ChangeType(v % (t == typeof(ulong) ? ulong.MaxValue : t == typeof(uint) ? uint.MaxValue : ushort.MaxValue), t, System.Globalization.CultureInfo.InvariantCulture);
        }

        var element = t.IsArray ? t.GetElementType()! : t.GetGenericArguments()[0];
        var count = zero ? 0 : random.Next(1, 4);
        var array = Array.CreateInstance(element, count);
        for (var i = 0; i < count; i++)
        {
            array.SetValue(element.IsPrimitive ? Value(element, false, random, seed) : Instance(element, random, seed), i);
        }

        return array;
    }
}
