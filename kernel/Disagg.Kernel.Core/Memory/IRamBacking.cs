namespace Disagg.Kernel.Core.Memory;

/// <summary>
/// The host memory behind a domain's guest-physical frames. The kernel backs RAM with one memfd
/// of maxmem size (pages exist only once touched, so RSS follows what the guest really uses);
/// tests may back it with plain native memory.
/// </summary>
public unsafe interface IRamBacking : IDisposable
{
    /// <summary>The host address of page <paramref name="index"/> of the backing (0 .. Pages-1).</summary>
    byte* Page(long index);

    long Pages { get; }

    /// <summary>Gives a page's host memory back (ballooned out): its contents are gone and RSS drops.</summary>
    void Discard(long index);
}
