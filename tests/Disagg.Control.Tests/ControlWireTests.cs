using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.TestSupport;

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
    public void TheCodecKnowsExactlyTheUnionsCases() =>
        UnionWireOracle.AssertSameCases(ControlWitness.GeneratedTypeShapeProvider, typeof(ControlMessage), ControlWire.Cases);

    public static IEnumerable<object[]> CasesAndSeeds() => UnionWireOracle.CasesAndSeeds(ControlWire.Cases);

    [Theory]
    [MemberData(nameof(CasesAndSeeds))]
    public void EveryCaseWritesAndReadsWhatTheUnionDoes(string name, int seed) =>
        UnionWireOracle.AssertCaseMatches<ControlMessage>(
            ControlWire.Cases, name, seed, (m, id) => m with { Id = id },
            m => Reference.Serialize<ControlMessage, ControlWitness>(m),
            ControlCodec.Encode,
            frame => ControlCodec.TryDecode(frame, out var back, out _, out var error) == FrameStatus.Message && error is null ? back : null);

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
}
