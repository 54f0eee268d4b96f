using Disagg.Control;
using PolyType;
using PolyType.Abstractions;
using Xunit;

namespace Disagg.TestSupport;

/// <summary>
/// A generated message codec (tools/gen-control-wire.py) against Nerdbank.MessagePack's union serializer, the
/// reference it replaces at run time. Both protocols frame the same way (u32 length, then [tag, message]), so
/// one oracle serves the kernel control codec and the CLI-daemon codec.
/// </summary>
public static class UnionWireOracle
{
    /// <summary>Seed 0: every value its default; 1 and 2 random; 3 extremes.</summary>
    public static readonly int[] Seeds = [0, 1, 2, 3];

    /// <summary>The codec's case list is exactly the [DerivedTypeShape] union's.</summary>
    public static void AssertSameCases(ITypeShapeProvider shapes, Type union, IEnumerable<(int Tag, Type Type)> codecCases)
    {
        var shape = (IUnionTypeShape)shapes.GetTypeShapeOrThrow(union);
        var expected = shape.UnionCases.Select(c => (c.Tag, c.UnionCaseType.Type)).OrderBy(c => c.Tag).ToArray();
        Assert.Equal(expected, codecCases.OrderBy(c => c.Tag).ToArray());
    }

    /// <summary>Every case by name, with every seed.</summary>
    public static IEnumerable<object[]> CasesAndSeeds(IEnumerable<(int Tag, Type Type)> cases) =>
        cases.SelectMany(c => Seeds.Select(seed => new object[] { c.Type.Name, seed }));

    /// <summary>
    /// Case <paramref name="name"/> built with <paramref name="seed"/>'s values (its Id too, through
    /// <paramref name="withId"/>) must encode to the reference's bytes, and the reference's bytes must decode
    /// to a message of that case that the reference encodes the same again.
    /// </summary>
    public static void AssertCaseMatches<TBase>(
        IEnumerable<(int Tag, Type Type)> cases, string name, int seed, Func<TBase, long, TBase> withId,
        Func<TBase, byte[]> reference, Func<TBase, byte[]> encodeFrame, Func<byte[], TBase?> decodeFrame)
        where TBase : class
    {
        var type = cases.Single(c => c.Type.Name == name).Type;
        var message = (TBase)RandomRecords.Instance(type, new Random(seed), seed);
        if (seed != 0)
        {
            message = withId(message, seed == 3 ? long.MinValue : new Random(seed).NextInt64());
        }

        var expected = reference(message);
        var frame = encodeFrame(message);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(frame[FrameBuffer.HeaderSize..]));

        expected.CopyTo(frame, FrameBuffer.HeaderSize);
        var back = decodeFrame(frame);
        Assert.NotNull(back);
        Assert.Equal(type, back.GetType());
        Assert.Equal(expected, reference(back));
    }
}
