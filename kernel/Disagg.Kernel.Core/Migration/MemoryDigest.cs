using System.IO.Hashing;
using Disagg.Kernel.Core.Domains;

namespace Disagg.Kernel.Core.Migration;

/// <summary>
/// XXH3 over a domain's populated RAM, frame number and contents, in frame order: two hosts holding the same
/// guest memory get the same digest. A migration compares the source's (paused) with the target's before
/// the target may run the guest, so a page the dirty log missed is caught, not resumed with.
/// </summary>
public static class MemoryDigest
{
    public static unsafe (ulong Hash, long Pages) Compute(Domain domain)
    {
        var memory = domain.Memory;
        var hash = new XxHash3();
        Span<byte> number = stackalloc byte[8];
        var pages = 0L;
        for (var i = 0L; i < memory.MaxPages; i++)
        {
            var frame = PvLayout.RamFirstFrame + (ulong)i;
            var page = memory.Frame(frame, forWrite: false);
            if (page == null)
            {
                continue;
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(number, frame);
            hash.Append(number);
            hash.Append(new ReadOnlySpan<byte>(page, (int)PvLayout.PageSize));
            pages++;
        }

        return (hash.GetCurrentHashAsUInt64(), pages);
    }
}
