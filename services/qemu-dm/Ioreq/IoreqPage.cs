using Disagg.Abi.Hvm;
using Disagg.Interop;

namespace Disagg.QemuDm.Ioreq;

/// <summary>
/// qemu-dm's view of its domain's ioreq page (public/hvm/ioreq.h): slot n is vCPU n. A slot READY, or
/// INPROCESS left by a predecessor that died before answering, is a request to serve; the answer goes into
/// Data and the state becomes IORESP_READY with a release store. Nothing else of the page is written.
/// </summary>
internal sealed unsafe class IoreqPage(SharedMemorySegment page, int vcpus) : IDisposable
{
    public int Vcpus => vcpus;

    /// <summary>The port (in the HVM domain) of vCPU <paramref name="vcpu"/>'s slot, to bind.</summary>
    public int EventPort(int vcpu) => (int)Slot(vcpu)->VpEventPort;

    /// <summary>
    /// True when vCPU <paramref name="vcpu"/>'s slot holds an answer the vCPU has not taken: a predecessor killed
    /// between publishing IORESP_READY and notifying left it so, and the vCPU sleeps until an event says "look".
    /// </summary>
    public bool HasUntakenAnswer(int vcpu) => IoreqSlot.StateOf(Volatile.Read(ref Slot(vcpu)->Flags)) == IoreqState.ResponseReady;

    /// <summary>Takes vCPU <paramref name="vcpu"/>'s request if there is one (marking it INPROCESS).</summary>
    public bool TryTake(int vcpu, out ulong address, out int size, out bool read, out ulong data)
    {
        var slot = Slot(vcpu);
        var flags = Volatile.Read(ref slot->Flags);
        var state = IoreqSlot.StateOf(flags);
        address = slot->Address;
        size = (int)slot->Size;
        read = IoreqSlot.IsRead(flags);
        data = slot->Data;
        if (state is not (IoreqState.Ready or IoreqState.InProcess) || slot->Type != IoreqSlot.TypeCopy || size is not (1 or 2 or 4 or 8))
        {
            return false;
        }

        Volatile.Write(ref slot->Flags, IoreqSlot.MakeFlags(IoreqState.InProcess, read));
        return true;
    }

    /// <summary>Publishes the answer (a read's value, masked to its size).</summary>
    public void Answer(int vcpu, int size, bool read, ulong value)
    {
        var slot = Slot(vcpu);
        if (read)
        {
            slot->Data = size == 8 ? value : value & ((1UL << (8 * size)) - 1);
        }

        Volatile.Write(ref slot->Flags, IoreqSlot.MakeFlags(IoreqState.ResponseReady, read));
    }

    public void Dispose() => page.Dispose();

    private IoreqSlot* Slot(int vcpu) => (IoreqSlot*)page.Pointer + vcpu;
}
