using System.Runtime.InteropServices;
using Disagg.Abi.Boot;
using Disagg.Kernel.Core.Ipc.Events;

namespace Disagg.Kernel.Core.Tests;

/// <summary>A zeroed shared_info page in native memory plus a record of upcalls: a guest's side of the 2-level ABI.</summary>
internal sealed unsafe class GuestEventPage : IUpcallSink, IDisposable
{
    private readonly int[] _upcalls;

    public GuestEventPage(int vcpus = 2)
    {
        Page = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
        NativeMemory.Clear(Page, 4096);
        _upcalls = new int[vcpus];
        Delivery = new TwoLevelEventDelivery(Page, vcpus, this);
    }

    public byte* Page { get; }

    public TwoLevelEventDelivery Delivery { get; }

    public ref SharedInfo Info => ref *(SharedInfo*)Page;

    public int Upcalls(int vcpu) => Volatile.Read(ref _upcalls[vcpu]);

    public void RaiseUpcall(int vcpu) => Interlocked.Increment(ref _upcalls[vcpu]);

    public ref VcpuInfo Vcpu(int n) => ref ((VcpuInfo*)Page)[n];

    public bool Pending(int port) => (Info.EvtchnPending[port >> 6] & (1UL << (port & 63))) != 0;

    public void Mask(int port) => Info.EvtchnMask[port >> 6] |= 1UL << (port & 63);

    /// <summary>What a guest's upcall handler does (spec §2): clear the flag, take the selector, collect and clear pending unmasked ports.</summary>
    public List<int> Handle(int vcpu)
    {
        var ports = new List<int>();
        Vcpu(vcpu).UpcallPending = 0;
        var sel = (ulong)Interlocked.Exchange(ref *(long*)&((VcpuInfo*)Page)[vcpu].PendingSel, 0);
        while (sel != 0)
        {
            var w = System.Numerics.BitOperations.TrailingZeroCount(sel);
            sel &= sel - 1;
            ref var pendingWord = ref *(long*)&((SharedInfo*)Page)->EvtchnPending[w];
            var bits = (ulong)Volatile.Read(ref pendingWord) & ~Info.EvtchnMask[w];
            while (bits != 0)
            {
                var b = System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                Interlocked.And(ref pendingWord, ~(1L << b));
                ports.Add((w * 64) + b);
            }
        }

        return ports;
    }

    public void Dispose() => NativeMemory.AlignedFree(Page);
}
