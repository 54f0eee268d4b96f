using Disagg.Abi.Grants;
using Disagg.Service;

namespace Disagg.Netback.DataPath;

/// <summary>One submission of the switch's copies (tx frames in, or rx frames out) and the wait for the kernel to do them.</summary>
internal static class GrantCopyBatch
{
    private static readonly TimeSpan CopyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Submits <paramref name="copies"/> and waits until they are done; returns the first copy's ring number (for its status).</summary>
    public static uint SubmitAndWait(IBackendChannel channel, ReadOnlySpan<GrantCopy> copies)
    {
        if (!channel.TrySubmitCopies(copies, out var end))
        {
            throw new SwitchStalledException("the grant-copy ring has no room although every earlier copy is done");
        }

        if (!channel.CopiesDone(end) && !channel.WaitForCopies(end, CopyTimeout))
        {
            throw new SwitchStalledException($"the kernel performed no grant copy in {CopyTimeout.TotalSeconds} s");
        }

        return end - (uint)copies.Length;
    }
}
