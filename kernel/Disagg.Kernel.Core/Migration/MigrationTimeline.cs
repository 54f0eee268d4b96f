using System.Buffers.Binary;
using System.Diagnostics;

namespace Disagg.Kernel.Core.Migration;

/// <summary>
/// The stamps of one stop-and-copy (<see cref="MigrationStep"/>): the source's kernel fills its own, the target's
/// kernel sends its own after Resumed (MigrationHandOff's Timeline frame), and the source's kernel hands all of them
/// to its toolstack (MigrationRoundSent.Timeline). 0 is a step not reached. Stamping costs a clock read per step.
/// </summary>
public sealed class MigrationTimeline
{
    /// <summary>Steps known today; a peer's longer timeline (a newer kernel) is cut to these.</summary>
    public const int Steps = (int)MigrationStep.Resumed + 1;

    private readonly long[] _at = new long[Steps];

    public long this[MigrationStep step] => _at[(int)step];

    public void Mark(MigrationStep step) => _at[(int)step] = Stopwatch.GetTimestamp();

    public void Mark(MigrationStep step, long at) => _at[(int)step] = at;

    /// <summary>The target's steps, to send: one u64 LE each from <see cref="MigrationStep.StopRoundArrived"/> on.</summary>
    public byte[] EncodeTarget()
    {
        var bytes = new byte[(Steps - (int)MigrationStep.StopRoundArrived) * 8];
        for (var s = (int)MigrationStep.StopRoundArrived; s < Steps; s++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan((s - (int)MigrationStep.StopRoundArrived) * 8), _at[s]);
        }

        return bytes;
    }

    /// <summary>Takes the target's steps from its Timeline frame (what <see cref="EncodeTarget"/> wrote; extra steps ignored).</summary>
    public void DecodeTarget(ReadOnlySpan<byte> bytes)
    {
        for (var s = (int)MigrationStep.StopRoundArrived; s < Steps && (s - (int)MigrationStep.StopRoundArrived + 1) * 8 <= bytes.Length; s++)
        {
            _at[s] = BinaryPrimitives.ReadInt64LittleEndian(bytes[((s - (int)MigrationStep.StopRoundArrived) * 8)..]);
        }
    }

    /// <summary>Every step, u64 LE each in step order: MigrationRoundSent.Timeline for the toolstack.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[Steps * 8];
        for (var s = 0; s < Steps; s++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(s * 8), _at[s]);
        }

        return bytes;
    }
}
