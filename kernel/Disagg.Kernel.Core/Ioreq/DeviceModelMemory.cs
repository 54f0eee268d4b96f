using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;

namespace Disagg.Kernel.Core.Ioreq;

/// <summary>
/// A device model's window on its domain's RAM (what a virtio queue points at): a bounded copy to or from
/// guest-physical memory, only within the domain's populated RAM, done by the kernel, so the device model
/// never holds the RAM. The domain is entered as a grant copy enters it, so destroying it waits for the copy.
/// </summary>
public static unsafe class DeviceModelMemory
{
    /// <summary>Bytes one copy may move: bounded work per request.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>Null when <paramref name="length"/> bytes at <paramref name="address"/> lie within the RAM; else why not.</summary>
    public static string? CheckRange(Domain d, ulong address, int length)
    {
        var ramEnd = VirtLayout.RamBase + ((ulong)d.Memory.PopulatedPages * 4096);
        return length < 0 || length > MaxBytes || address < VirtLayout.RamBase || address + (ulong)length > ramEnd || address + (ulong)length < address
            ? $"domain {d.Id}: guest memory 0x{address:x}+{length} is not within its RAM 0x{VirtLayout.RamBase:x}-0x{ramEnd:x} (or over {MaxBytes} bytes)"
            : null;
    }

    /// <summary>Copies; false when the domain is going away. The range must have passed <see cref="CheckRange"/>.</summary>
    public static bool TryCopy(Domain d, ulong address, Span<byte> data, bool write)
    {
        if (!d.GrantView.TryEnter())
        {
            return false;
        }

        var gate = d.Ioreq?.GuestCopies; // a save's capture holds it (IoreqServer.GuestCopies)
        gate?.Enter();
        try
        {
            for (var done = 0; done < data.Length;)
            {
                var a = address + (ulong)done;
                var page = d.Memory.Frame(a >> 12, write);
                if (page == null)
                {
                    return false; // ballooned out meanwhile
                }

                var n = Math.Min(data.Length - done, 4096 - (int)(a & 0xFFF));
                var guest = new Span<byte>(page + (a & 0xFFF), n);
                if (write)
                {
                    data.Slice(done, n).CopyTo(guest);
                }
                else
                {
                    guest.CopyTo(data.Slice(done, n));
                }

                done += n;
            }

            return true;
        }
        finally
        {
            gate?.Exit();
            d.GrantView.Exit();
        }
    }
}
