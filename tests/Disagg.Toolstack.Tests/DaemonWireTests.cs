using Disagg.TestSupport;
using Disagg.Toolstack.Protocol;
using PolyType;
using PolyType.Abstractions;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// The generated CLI-daemon codec (tools/gen-control-wire.py) against Nerdbank.MessagePack's union serializer,
/// the reference it replaces at run time: every case with default, random and extreme values gives the same
/// bytes and reads back what the reference wrote.
/// </summary>
public class DaemonWireTests
{
    private static readonly Nerdbank.MessagePack.MessagePackSerializer Reference = new();

    [Fact]
    public void TheCodecKnowsExactlyTheUnionsCases()
    {
        var union = (IUnionTypeShape)DaemonWitness.GeneratedTypeShapeProvider.GetTypeShapeOrThrow(typeof(DaemonMessage));
        var expected = union.UnionCases.Select(c => (c.Tag, c.UnionCaseType.Type)).OrderBy(c => c.Tag).ToArray();
        Assert.Equal(expected, DaemonWire.Cases.OrderBy(c => c.Tag).ToArray());
    }

    public static TheoryData<string, int> CasesAndSeeds()
    {
        var data = new TheoryData<string, int>();
        foreach (var (_, type) in DaemonWire.Cases)
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
        var type = DaemonWire.Cases.Single(c => c.Type.Name == name).Type;
        var message = (DaemonMessage)RandomRecords.Instance(type, new Random(seed), seed);
        if (seed != 0)
        {
            message = message with { Id = seed == 3 ? long.MaxValue : new Random(seed).NextInt64() };
        }

        var reference = Reference.Serialize<DaemonMessage, DaemonWitness>(message);
        var frame = DaemonCodec.Encode(message);
        Assert.Equal(Convert.ToHexString(reference), Convert.ToHexString(frame[DaemonCodec.HeaderSize..]));

        reference.CopyTo(frame, DaemonCodec.HeaderSize);
        Assert.True(DaemonCodec.TryDecode(frame, out var back, out var consumed, out var error), error);
        Assert.Equal(frame.Length, consumed);
        Assert.Equal(type, back!.GetType());
        Assert.Equal(reference, Reference.Serialize<DaemonMessage, DaemonWitness>(back));
    }

    [Fact]
    public void GarbageIsAnErrorNotAnException()
    {
        var random = new Random(7);
        var good = DaemonCodec.Encode(new CreateRequest("/etc/disagg/web.cfg", Paused: true) { Id = 3 });
        for (var i = 0; i < 2000; i++)
        {
            var frame = (byte[])good.Clone();
            frame[DaemonCodec.HeaderSize + random.Next(frame.Length - DaemonCodec.HeaderSize)] = (byte)random.Next(256);
            var ok = DaemonCodec.TryDecode(frame, out var message, out _, out var error);
            Assert.True(ok ? message is not null && error is null : message is null);
        }
    }
}
