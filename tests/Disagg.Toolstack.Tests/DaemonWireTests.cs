using Disagg.TestSupport;
using Disagg.Toolstack.Protocol;

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
    public void TheCodecKnowsExactlyTheUnionsCases() =>
        UnionWireOracle.AssertSameCases(DaemonWitness.GeneratedTypeShapeProvider, typeof(DaemonMessage), DaemonWire.Cases);

    public static IEnumerable<object[]> CasesAndSeeds() => UnionWireOracle.CasesAndSeeds(DaemonWire.Cases);

    [Theory]
    [MemberData(nameof(CasesAndSeeds))]
    public void EveryCaseWritesAndReadsWhatTheUnionDoes(string name, int seed) =>
        UnionWireOracle.AssertCaseMatches<DaemonMessage>(
            DaemonWire.Cases, name, seed, (m, id) => m with { Id = id },
            m => Reference.Serialize<DaemonMessage, DaemonWitness>(m),
            DaemonCodec.Encode,
            frame => DaemonCodec.TryDecode(frame, out var back, out var consumed, out _) && consumed == frame.Length ? back : null);

    [Fact]
    public void GarbageIsAnErrorNotAnException()
    {
        var random = new Random(7);
        var good = DaemonCodec.Encode(new CreateRequest("/etc/disagg/web.cfg", Paused: true, ["memory=256"]) { Id = 3 });
        for (var i = 0; i < 2000; i++)
        {
            var frame = (byte[])good.Clone();
            frame[DaemonCodec.HeaderSize + random.Next(frame.Length - DaemonCodec.HeaderSize)] = (byte)random.Next(256);
            var ok = DaemonCodec.TryDecode(frame, out var message, out _, out var error);
            Assert.True(ok ? message is not null && error is null : message is null);
        }
    }
}
