namespace Disagg.Netif;

/// <summary>
/// Where one frontend's grant refs and buffer pages start in its service's channel, so several vifs share one
/// grant table and one copy buffer (qemu-dm's NICs): <see cref="Netfront.Refs"/> refs and <see cref="Netfront.Pages"/> pages each.
/// </summary>
public readonly record struct NetfrontLayout(uint FirstRef, int FirstPage)
{
    /// <summary>The layout of frontend <paramref name="index"/> when the first <paramref name="reservedPages"/> buffer pages belong to someone else.</summary>
    public static NetfrontLayout For(int index, int reservedPages) =>
        new((uint)(index * Netfront.Refs), reservedPages + (index * Netfront.Pages));

    /// <summary>Grant frames (512 v1 entries each) that <paramref name="count"/> frontends need.</summary>
    public static int GrantFrames(int count) => ((count * Netfront.Refs) + 511) / 512;
}
