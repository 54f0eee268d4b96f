using System.Runtime.CompilerServices;
using Disagg.Abi.Boot;

namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>
/// Xen's 2-level event ABI over a guest's shared_info page (spec §2): pending and mask bitmaps
/// of 64 u64 words, a per-vCPU selector word and upcall flag. The guest clears bits
/// concurrently, so every change is an atomic read-modify-write on the page itself.
/// </summary>
public sealed unsafe class TwoLevelEventDelivery : IEventDelivery
{
    private const int VcpuInfoSize = 48;
    private const int PendingSelOffset = 8;
    private readonly byte* _sharedInfo;
    private readonly int _vcpus;
    private readonly IUpcallSink _upcall;

    /// <param name="sharedInfo">The domain's shared_info page, mapped for the life of this object.</param>
    public TwoLevelEventDelivery(byte* sharedInfo, int vcpus, IUpcallSink upcall)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vcpus, SharedInfo.LegacyMaxVcpus);
        _sharedInfo = sharedInfo;
        _vcpus = vcpus;
        _upcall = upcall;
    }

    /// <summary>Called when a port becomes pending, masked or not: SCHEDOP_poll waits on masked ports.</summary>
    public Action? NewlyPending { get; set; }

    public void SetPending(int port, int vcpu)
    {
        var (word, bit) = Split(port);
        if ((Interlocked.Or(ref Pending(word), bit) & bit) != 0)
        {
            return; // already pending: the guest has not handled the last one yet
        }

        NewlyPending?.Invoke();

        if ((Volatile.Read(ref Mask(word)) & bit) != 0)
        {
            return; // masked: delivered by Unmask
        }

        Notify(word, vcpu);
    }

    public void ClearPending(int port)
    {
        var (word, bit) = Split(port);
        Interlocked.And(ref Pending(word), ~bit);
    }

    public void Unmask(int port, int vcpu)
    {
        var (word, bit) = Split(port);
        Interlocked.And(ref Mask(word), ~bit);
        if ((Volatile.Read(ref Pending(word)) & bit) != 0)
        {
            Notify(word, vcpu);
        }
    }

    public bool IsPending(int port)
    {
        var (word, bit) = Split(port);
        return (Volatile.Read(ref Pending(word)) & bit) != 0;
    }

    public bool IsMasked(int port)
    {
        var (word, bit) = Split(port);
        return (Volatile.Read(ref Mask(word)) & bit) != 0;
    }

    private static (int Word, long Bit) Split(int port) => (port >> 6, 1L << (port & 63));

    private void Notify(int word, int vcpu)
    {
        if ((uint)vcpu >= (uint)_vcpus)
        {
            vcpu = 0; // a port bound to a vCPU the domain no longer has goes to vCPU 0, as in Xen
        }

        var info = _sharedInfo + (vcpu * VcpuInfoSize);
        Interlocked.Or(ref Unsafe.AsRef<long>(info + PendingSelOffset), 1L << word);
        // evtchn_upcall_pending is a byte; set it with a CAS on the aligned word holding it.
        ref var head = ref Unsafe.AsRef<int>(info);
        int old;
        do
        {
            old = Volatile.Read(ref head);
            if ((old & 0xFF) != 0)
            {
                return; // an upcall is already pending; the guest will scan the selector
            }
        }
        while (Interlocked.CompareExchange(ref head, old | 1, old) != old);

        _upcall.RaiseUpcall(vcpu);
    }

    private ref long Pending(int word) => ref Unsafe.AsRef<long>(_sharedInfo + SharedInfo.EvtchnPendingOffset + (word * 8));

    private ref long Mask(int word) => ref Unsafe.AsRef<long>(_sharedInfo + SharedInfo.EvtchnMaskOffset + (word * 8));
}
