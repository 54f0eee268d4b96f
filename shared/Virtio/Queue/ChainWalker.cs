using System.Runtime.InteropServices;
using Disagg.Virtio.Memory;

namespace Disagg.Virtio.Queue;

/// <summary>
/// Follows one descriptor chain (virtio 1.x §2.7.5) into a <see cref="DescriptorChain"/>, checking every
/// rule a hostile driver could break before the device acts on any of it: indices inside the table,
/// no more descriptors than the table holds (a loop), buffers inside RAM without wrapping, readable
/// before writable, indirect tables only when negotiated, never nested, never with NEXT.
/// </summary>
/// <remarks>
/// An indirect table is copied whole, in one read, into the queue's own buffer: Linux puts every
/// multi-buffer request behind one, so a chain costs two guest-memory reads however many buffers it has
/// (qemu-dm's reads go through the kernel), and the walk sees one snapshot the guest cannot change under it.
/// </remarks>
internal static class ChainWalker
{
    public static bool TryWalk(Virtqueue queue, IGuestMemory memory, DescriptorChain chain, byte[] indirectTable, ushort head)
    {
        chain.Begin(head);
        var table = queue.DescTable;
        var tableSize = (uint)queue.Size;
        var index = (uint)head;
        var visited = 0u;
        var indirect = false;
        var sawWritable = false;
        Span<byte> raw = stackalloc byte[VirtqDesc.Size];
        while (true)
        {
            if (index >= tableSize)
            {
                return queue.Fail(VirtioFaultReason.DescriptorIndexOutOfRange,
                    $"descriptor {index} of chain {head} is outside a table of {tableSize}{(indirect ? " (indirect)" : string.Empty)}");
            }

            // §2.7.5.2: a chain is never longer than its table, so one more descriptor than that means a loop.
            if (++visited > tableSize)
            {
                return queue.Fail(VirtioFaultReason.ChainLoop, $"chain {head} visits more than {tableSize} descriptors{(indirect ? " (indirect)" : string.Empty)}");
            }

            VirtqDesc desc;
            if (indirect)
            {
                desc = MemoryMarshal.Read<VirtqDesc>(indirectTable.AsSpan((int)index * VirtqDesc.Size, VirtqDesc.Size));
            }
            else if (memory.TryRead(table + ((ulong)index * VirtqDesc.Size), raw))
            {
                desc = MemoryMarshal.Read<VirtqDesc>(raw);
            }
            else
            {
                return queue.Fail(VirtioFaultReason.OutsideRam, $"descriptor table 0x{table:x} entry {index} is not RAM");
            }

            if ((desc.Flags & VirtqDesc.FlagIndirect) != 0)
            {
                if (!TryEnterIndirect(queue, memory, head, desc, indirect, out table, out tableSize))
                {
                    return false;
                }

                if (!memory.TryRead(table, indirectTable.AsSpan(0, (int)(tableSize * VirtqDesc.Size))))
                {
                    return queue.Fail(VirtioFaultReason.OutsideRam, $"chain {head}: indirect table 0x{table:x} became unreadable");
                }

                indirect = true;
                index = 0;
                visited = 0;
                continue;
            }

            var writable = (desc.Flags & VirtqDesc.FlagWrite) != 0;
            if (!writable && sawWritable)
            {
                return queue.Fail(VirtioFaultReason.WrongDirection, $"chain {head}: device-readable descriptor {index} after a device-writable one");
            }

            sawWritable |= writable;
            if (!GuestMemoryAccess.TryEnd(desc.Addr, desc.Len, out _))
            {
                return queue.Fail(VirtioFaultReason.LengthOverflow, $"chain {head}: buffer 0x{desc.Addr:x}+{desc.Len} wraps");
            }

            if (desc.Len > 0)
            {
                if (!memory.IsRam(desc.Addr, desc.Len))
                {
                    return queue.Fail(VirtioFaultReason.OutsideRam, $"chain {head}: buffer 0x{desc.Addr:x}+{desc.Len} is not RAM");
                }

                if (chain.SegmentCount == chain.Capacity)
                {
                    return queue.Fail(VirtioFaultReason.ChainLoop, $"chain {head} has more than {chain.Capacity} buffers");
                }

                if (!chain.TryAdd(desc.Addr, desc.Len, writable))
                {
                    return queue.Fail(VirtioFaultReason.LengthOverflow, $"chain {head}: total length exceeds 4 GiB");
                }
            }

            if ((desc.Flags & VirtqDesc.FlagNext) == 0)
            {
                return true;
            }

            index = desc.Next;
        }
    }

    private static bool TryEnterIndirect(
        Virtqueue queue, IGuestMemory memory, ushort head, VirtqDesc desc, bool alreadyIndirect, out ulong table, out uint tableSize)
    {
        table = desc.Addr;
        tableSize = desc.Len / VirtqDesc.Size;
        if (!queue.IndirectDesc)
        {
            return queue.Fail(VirtioFaultReason.BadIndirect, $"chain {head}: indirect descriptor without VIRTIO_F_INDIRECT_DESC");
        }

        if (alreadyIndirect)
        {
            return queue.Fail(VirtioFaultReason.BadIndirect, $"chain {head}: indirect descriptor inside an indirect table");
        }

        if ((desc.Flags & VirtqDesc.FlagNext) != 0)
        {
            return queue.Fail(VirtioFaultReason.BadIndirect, $"chain {head}: indirect descriptor with NEXT");
        }

        if (desc.Len == 0 || desc.Len % VirtqDesc.Size != 0 || tableSize > Virtqueue.MaxIndirectEntries)
        {
            return queue.Fail(VirtioFaultReason.BadIndirect, $"chain {head}: indirect table of {desc.Len} bytes (a multiple of 16, at most {Virtqueue.MaxIndirectEntries} entries)");
        }

        if (!GuestMemoryAccess.TryEnd(desc.Addr, desc.Len, out _) || !memory.IsRam(desc.Addr, desc.Len))
        {
            return queue.Fail(VirtioFaultReason.OutsideRam, $"chain {head}: indirect table 0x{desc.Addr:x}+{desc.Len} is not RAM");
        }

        return true;
    }
}
