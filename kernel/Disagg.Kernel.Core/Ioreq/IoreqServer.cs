using Disagg.Abi.Hvm;
using Disagg.Abi.Hypercalls;
using Disagg.Interop;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Execution;
using Disagg.Abi.Events;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Ioreq;

/// <summary>
/// Xen's ioreq server for one HVM domain: the MMIO accesses its device model answers (the bus's
/// device-model windows) go through one shared page of <see cref="IoreqSlot"/> slots, slot n for vCPU n, and an
/// event channel per vCPU between the domain and the device model's service domain. A vCPU fills its slot,
/// publishes READY, notifies and waits off its pCPU; the device model's notification wakes it, and it
/// completes the instruction from the answer. The page is kernel memory (a one-page memfd the device
/// model maps), so a device model that dies leaves the request where its successor finds it: the ports
/// go back to unbound for the device model's domain, the new process binds them again and serves the
/// slots still READY or INPROCESS. A device model that answers garbage is refused: the domain is crashed
/// with the reason in dmesg (Xen's hvm_wait_for_io does the same). One that is there and does not answer leaves
/// the vCPU waiting, not the pCPU, for at most its answer timeout (<see cref="IoreqWatchdog"/>): then the domain
/// is crashed, saying which device model, vCPU and access and how long it waited.
/// </summary>
public sealed unsafe class IoreqServer : IDisposable
{
    /// <summary>
    /// A device model's answer timeout unless the control domain names another: long enough that no load makes a
    /// live qemu-dm miss it (an answer takes microseconds; bench/ioreq saw 53 us at load 53 on 2 cores) and above
    /// `disagg fault`'s SIGSTOP holds (2 s at most), short enough that a hung one is noticed.
    /// </summary>
    public static readonly TimeSpan DefaultAnswerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The shortest answer timeout the control domain may set (tests use it; below it load alone could crash a guest).</summary>
    public static readonly TimeSpan MinAnswerTimeout = TimeSpan.FromMilliseconds(100);

    private readonly Hypervisor _hypervisor;
    private readonly Domain _domain;
    private readonly SharedMemorySegment _page;
    private readonly Lock _lock = new();
    private int[] _ports = [];
    private int _deviceModel = -1;
    private long _refused;
    private IoreqWatchdog _watchdog;

    internal IoreqServer(Hypervisor hypervisor, Domain domain, IoreqEventDelivery delivery)
    {
        if (domain.Vcpus.Count * IoreqSlot.SlotSize > SharedMemorySegment.PageSize)
        {
            throw new ArgumentException($"domain {domain.Id}: {domain.Vcpus.Count} vCPUs do not fit one ioreq page");
        }

        _hypervisor = hypervisor;
        _domain = domain;
        _page = SharedMemorySegment.Create($"disagg-dom{domain.Id}-ioreq", 1);
        _watchdog = new IoreqWatchdog(this, hypervisor.Timers, domain.Vcpus.Count, DefaultAnswerTimeout);
        RingPages = new DeviceModelPages(hypervisor, domain);
        delivery.Consume(this);
    }

    /// <summary>
    /// Held by each copy the device model makes into or out of guest RAM (<see cref="DeviceModelMemory"/>) and by a
    /// save for its whole capture: a copy the device model sent just before it was stopped lands before or after
    /// the captured memory, never halfway through it. One device model per domain: uncontended but for a save.
    /// </summary>
    public Lock GuestCopies { get; } = new();

    /// <summary>The device model's service domain id; -1 until the control domain names one.</summary>
    public int DeviceModelDomain => Volatile.Read(ref _deviceModel);

    /// <summary>The pages of the domain's RAM its device model holds mapped (virtqueue rings).</summary>
    public DeviceModelPages RingPages { get; }

    /// <summary>The ioreq page, for the device model (mapped through its descriptor, never more than this page).</summary>
    public SharedMemorySegment Page => _page;

    /// <summary>Per vCPU, the domain's port the device model binds (also in each slot's vp_eport).</summary>
    public IReadOnlyList<int> Ports => Volatile.Read(ref _ports);

    /// <summary>Why the last answer was refused (also in dmesg); null if none was.</summary>
    public string? LastRefusal { get; private set; }

    /// <summary>Answers refused since creation.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>How long a device model that is there may leave a vCPU waiting before the domain is crashed.</summary>
    public TimeSpan AnswerTimeout => _watchdog.Timeout;

    /// <summary>
    /// Names <paramref name="deviceModel"/> (a service domain) this domain's device model and allocates the
    /// per-vCPU ports unbound for it. Once: naming another later is EEXIST; the same again is a no-op.
    /// <paramref name="answerTimeout"/> (null: <see cref="DefaultAnswerTimeout"/>) bounds how long it may leave a vCPU
    /// waiting. Returns 0 or a negative Xen errno (EINVAL for a timeout below <see cref="MinAnswerTimeout"/>).
    /// </summary>
    public int SetDeviceModel(int deviceModel, TimeSpan? answerTimeout = null)
    {
        var timeout = answerTimeout ?? DefaultAnswerTimeout;
        if (timeout < MinAnswerTimeout || timeout > TimeSpan.FromDays(1))
        {
            return -(int)XenErrno.EINVAL;
        }

        lock (_lock)
        {
            if (_deviceModel == deviceModel)
            {
                return 0;
            }

            if (_deviceModel >= 0)
            {
                return -(int)XenErrno.EEXIST;
            }

            var ports = new int[_domain.Vcpus.Count];
            for (var i = 0; i < ports.Length; i++)
            {
                var port = _hypervisor.EventChannels.AllocUnbound(_domain.Events, _domain.Id, deviceModel);
                if (port < 0)
                {
                    for (var j = 0; j < i; j++)
                    {
                        _hypervisor.EventChannels.Close(_domain.Events, ports[j]);
                    }

                    return port;
                }

                ports[i] = port;
                Slot(i)->VpEventPort = (uint)port;
            }

            Volatile.Write(ref _ports, ports);
            if (timeout != _watchdog.Timeout)
            {
                _watchdog.Stop(); // nothing was issued yet: no device model, no MMIO window that asks it
                _watchdog = new IoreqWatchdog(this, _hypervisor.Timers, _domain.Vcpus.Count, timeout);
            }

            _domain.Hvm?.HandVirtioSlotsToDeviceModel();
            Volatile.Write(ref _deviceModel, deviceModel);
            _hypervisor.Log.WriteKernel($"domain {_domain.Id}: device model is domain {deviceModel}, ioreq ports {string.Join(',', ports)}, answer timeout {timeout.TotalSeconds:0.###} s");
            return 0;
        }
    }

    /// <summary>Hands the parked access of <paramref name="vcpu"/> to the device model: fill the slot, publish READY, notify.</summary>
    public void Issue(Vcpu vcpu, MmioAccess access)
    {
        var slot = Slot(vcpu.Id);
        var state = IoreqSlot.StateOf(Volatile.Read(ref slot->Flags));
        if (state != IoreqState.None)
        {
            throw new InvalidOperationException($"domain {_domain.Id} vcpu {vcpu.Id}: ioreq issued while the slot is {state}");
        }

        slot->Address = access.Address;
        slot->Data = access.IsWrite ? access.Value : 0;
        slot->Count = 1;
        slot->Size = (uint)access.Size;
        slot->Type = IoreqSlot.TypeCopy;
        Volatile.Write(ref slot->Flags, IoreqSlot.MakeFlags(IoreqState.Ready, read: !access.IsWrite));
        _watchdog.Issued(vcpu.Id, DeviceModelBinding(vcpu.Id));
        Notify(vcpu.Id);
    }

    /// <summary>
    /// Looks at the slot of <paramref name="vcpu"/>, parked on <paramref name="access"/>: the answer when
    /// there is one (the slot goes back to NONE), or that it must wait; a garbage answer is refused and
    /// the domain crashed, with the reason in dmesg and <see cref="LastRefusal"/>.
    /// </summary>
    public IoreqAnswer Poll(Vcpu vcpu, MmioAccess access, out ulong value)
    {
        var slot = Slot(vcpu.Id);
        var flags = Volatile.Read(ref slot->Flags);
        value = 0;
        switch (IoreqSlot.StateOf(flags))
        {
            case IoreqState.Ready:
            case IoreqState.InProcess:
                return IoreqAnswer.Waiting;
            case IoreqState.ResponseReady:
                break;
            default:
                return Refuse(vcpu, $"slot state {IoreqSlot.StateOf(flags)} ({flags & 0x0F}) while a request was outstanding");
        }

        if (slot->Address != access.Address || slot->Size != (uint)access.Size || slot->Count != 1 || slot->Type != IoreqSlot.TypeCopy
            || IoreqSlot.IsRead(flags) == access.IsWrite || IoreqSlot.DataIsPointer(flags))
        {
            return Refuse(vcpu, $"the answer rewrote the request (addr 0x{slot->Address:x} size {slot->Size} count {slot->Count} type {slot->Type} flags 0x{flags:x2}; asked 0x{access.Address:x} size {access.Size} {(access.IsWrite ? "write" : "read")})");
        }

        value = slot->Data;
        if (!access.IsWrite && access.Size < 8 && (value >> (8 * access.Size)) != 0)
        {
            return Refuse(vcpu, $"a {access.Size}-byte read at 0x{access.Address:x} answered with 0x{value:x}");
        }

        Volatile.Write(ref slot->Flags, (byte)IoreqState.None);
        _watchdog.Answered(vcpu.Id);
        return IoreqAnswer.Answered;
    }

    /// <summary>
    /// For a save of the paused domain (its vCPUs off their pCPUs): a vCPU whose answer is already in its slot
    /// takes it now, as it would have when it next ran, so no answered access is done a second time after a
    /// restore. Returns how many vCPUs still wait for an answer: their access is not retired (the pc is at it),
    /// so a restored domain issues it again to its new device model, which is what a restarted device model
    /// does with a request its predecessor had taken (docs/SAVE-RESTORE.md, "HVM").
    /// </summary>
    public int SettleForSave()
    {
        var waiting = 0;
        foreach (var v in _domain.Vcpus)
        {
            if (v.Hart.ParkedMmio is not { } access)
            {
                continue;
            }

            switch (Poll(v, access, out var value))
            {
                case IoreqAnswer.Answered:
                    v.Hart.CompleteMmio(value);
                    break;
                case IoreqAnswer.Waiting:
                    waiting++;
                    break;
            }
        }

        return waiting;
    }

    /// <summary>From the domain's event delivery: true (consumed) when <paramref name="port"/> is an ioreq port.</summary>
    internal bool OnDeviceModelEvent(int port)
    {
        var ports = Volatile.Read(ref _ports);
        for (var i = 0; i < ports.Length; i++)
        {
            if (ports[i] == port)
            {
                _domain.Vcpus[i].Wake();
                return true;
            }
        }

        return false;
    }

    public void Dispose()
    {
        _watchdog.Stop();
        _page.Dispose();
    }

    /// <summary>For the watchdog: the domain's state (only while it runs is a silent device model at fault).</summary>
    internal DomainState DomainState => _domain.State;

    /// <summary>
    /// For the watchdog: the binding of <paramref name="vcpu"/>'s port by the device model's process now (its event table
    /// and port), null while nobody holds it (no process yet, or it died). A new process is a new binding. Lock-free:
    /// one volatile load of the port's entry.
    /// </summary>
    internal object? DeviceModelBinding(int vcpu)
    {
        var ports = Volatile.Read(ref _ports);
        return vcpu < ports.Length && _domain.Events.Get(ports[vcpu]) is { State: EventChannelState.Interdomain } p ? p : null;
    }

    /// <summary>From the watchdog: <paramref name="vcpu"/> waited <paramref name="waited"/> on a device model that is there.</summary>
    internal void Expire(int vcpu, TimeSpan waited)
    {
        var slot = Slot(vcpu);
        var flags = Volatile.Read(ref slot->Flags);
        var why = $"domain {_domain.Id} vcpu {vcpu}: device model (domain {DeviceModelDomain}) did not answer an ioreq "
            + $"({(IoreqSlot.IsRead(flags) ? "read" : "write")} of {slot->Size} bytes at 0x{slot->Address:x}, slot {IoreqSlot.StateOf(flags)}) "
            + $"for {waited.TotalSeconds:0.0} s (answer timeout {AnswerTimeout.TotalSeconds:0.###} s): domain crashed";
        _hypervisor.Log.WriteKernel(why);
        LastRefusal = why;
        _domain.Shutdown(ShutdownReason.Crash, why);
    }

    private void Notify(int vcpu)
    {
        var ports = Volatile.Read(ref _ports);
        if (vcpu < ports.Length)
        {
            // Unbound (no device model process yet, or it died): the request waits in the slot; binding
            // the port makes it pending for the device model, which then scans its slots.
            _hypervisor.EventChannels.Send(_domain.Events, ports[vcpu]);
        }
    }

    private IoreqAnswer Refuse(Vcpu vcpu, string why)
    {
        Interlocked.Increment(ref _refused);
        var refusal = $"domain {_domain.Id} vcpu {vcpu.Id}: device model (domain {DeviceModelDomain}) answered an ioreq with garbage: {why}";
        _hypervisor.Log.WriteKernel(refusal);
        LastRefusal = refusal;
        _domain.Shutdown(ShutdownReason.Crash, refusal);
        return IoreqAnswer.Refused;
    }

    private IoreqSlot* Slot(int vcpu) => (IoreqSlot*)_page.Pointer + vcpu;
}
