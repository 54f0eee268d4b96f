using Disagg.Kernel.Core.Ipc.Grants;

namespace Disagg.Kernel.Core.Domains;

/// <summary>A PV domain's grant table frames: special pages from <see cref="PvLayout.FirstGrantPage"/>, grown by setup_table.</summary>
internal sealed class GrantFrames : IGrantFrameProvider
{
    private int _current = PvLayout.InitialGrantFrames;

    public int CurrentFrames => Volatile.Read(ref _current);

    public int MaxFrames => PvLayout.MaxGrantFrames;

    public bool TryGrow(int frames)
    {
        if (frames > MaxFrames)
        {
            return false;
        }

        int seen;
        do
        {
            seen = Volatile.Read(ref _current);
        }
        while (frames > seen && Interlocked.CompareExchange(ref _current, frames, seen) != seen);

        return true;
    }

    public ulong GuestFrame(int index) => PvLayout.SpecialFrame(PvLayout.FirstGrantPage + index);
}
