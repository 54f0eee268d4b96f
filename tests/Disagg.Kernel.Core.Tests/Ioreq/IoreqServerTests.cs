using Disagg.Abi.Hvm;
using Disagg.Abi.Hypercalls;
using Disagg.DomainImage;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;
using Disagg.Kernel.Core.Ioreq;
using Disagg.Kernel.Core.Persist;
using Disagg.Kernel.Cpu.Tests;
using Disagg.TestSupport;

namespace Disagg.Kernel.Core.Tests.Ioreq;

/// <summary>
/// The kernel's side of the ioreq protocol, with the test as the device model on the real page: a guest's
/// UART load waits in its slot (READY, its vCPU off the pCPU), the answer lands in the load's register,
/// a store carries its value, and garbage answers crash the domain with the reason.
/// </summary>
[Collection(RealHypervisorCollection.Name)]
public sealed unsafe class IoreqServerTests : IDisposable
{
    private readonly HypervisorFixture _hv = new();

    public void Dispose() => _hv.Dispose();

    [Fact]
    public void AUartLoadWaitsInItsSlotUntilAnsweredAndTheAnswerLandsInRd()
    {
        var (d, result) = Start(out var slot);
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready), _hv.Dmesg());
        Assert.Equal(VirtLayout.UartBase + 5, slot->Address);
        Assert.Equal(1u, slot->Size);
        Assert.Equal(1u, slot->Count);
        Assert.Equal(IoreqSlot.TypeCopy, slot->Type);
        Assert.True(IoreqSlot.IsRead(slot->Flags));
        Assert.Equal((uint)d.Ioreq!.Ports[0], slot->VpEventPort);

        Thread.Sleep(100); // unanswered: still waiting
        Assert.Equal(DomainState.Blocked, d.State); // its one vCPU waits off the pCPU
        Answer(slot, 0x60, d);

        // then the guest stores the value to the UART's THR: a write request carrying it
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready && !IoreqSlot.IsRead(slot->Flags)), _hv.Dmesg());
        Assert.Equal(VirtLayout.UartBase, slot->Address);
        Assert.Equal(0x60UL, slot->Data);
        Answer(slot, 0, d);
        Assert.True(Eventually.Holds(() => d.State == DomainState.Shutdown), $"state {d.State}\n{_hv.Dmesg()}");
        var bytes = new byte[8];
        Assert.True(d.Vcpus[0].Hart.TryReadPhysical(result, bytes));
        Assert.Equal(0x60UL, BitConverter.ToUInt64(bytes));
        Assert.Equal(IoreqState.None, IoreqSlot.StateOf(slot->Flags));
    }

    [Theory]
    [InlineData("state")]
    [InlineData("wide")]
    [InlineData("rewritten")]
    public void AGarbageAnswerIsRefusedAndTheDomainCrashedSayingWhy(string how)
    {
        var (d, _) = Start(out var slot);
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready), _hv.Dmesg());
        switch (how)
        {
            case "state":
                Volatile.Write(ref slot->Flags, 0x2F); // state 15
                break;
            case "wide":
                slot->Data = 0x1234; // for a 1-byte read
                Volatile.Write(ref slot->Flags, IoreqSlot.MakeFlags(IoreqState.ResponseReady, read: true));
                break;
            default:
                slot->Address = VirtLayout.PlicBase;
                Volatile.Write(ref slot->Flags, IoreqSlot.MakeFlags(IoreqState.ResponseReady, read: true));
                break;
        }

        d.Vcpus[0].Wake();
        Assert.True(Eventually.Holds(() => d.State == DomainState.Crashed), $"state {d.State}\n{_hv.Dmesg()}");
        Assert.Contains("answered an ioreq with garbage", d.Ioreq!.LastRefusal, StringComparison.Ordinal);
        Assert.Contains("answered an ioreq with garbage", _hv.Dmesg(), StringComparison.Ordinal);
        Assert.Equal(1, d.Ioreq.Refused);
    }

    /// <summary>
    /// The ioreq path fuzzed: a device model writes random bytes over the slot of a waiting UART load (every field; half
    /// the time the request's own fields are kept and only the state and data are random, so answers are also accepted).
    /// What the kernel does is predicted from the bytes alone: READY/INPROCESS wait, a well-formed answer is taken and the
    /// guest goes on to its next access, anything else crashes the domain naming the garbage. Never an exception, never a
    /// hang, and the next domain on the same hypervisor is served normally.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomAnswersAreTakenWaitedOnOrRefusedAsTheBytesSay(int seed)
    {
        var random = new Random(seed);
        var outcomes = new int[3];
        for (var i = 0; i < 12; i++)
        {
            var (d, _) = Start(out var slot);
            Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready), _hv.Dmesg());
            var asked = *slot;
            var bytes = new byte[IoreqSlot.SlotSize];
            random.NextBytes(bytes);
            var answer = System.Runtime.InteropServices.MemoryMarshal.Read<Disagg.Abi.Hvm.IoreqSlot>(bytes);
            if (random.Next(2) == 0)
            {
                var data = random.Next(3) == 0 ? answer.Data : answer.Data & 0xFF; // mostly a fitting byte
                var state = random.Next(4) == 0 ? (IoreqState)(answer.Flags & 0x0F) : IoreqState.ResponseReady;
                answer = asked;
                answer.Data = data;
                answer.Flags = IoreqSlot.MakeFlags(state, read: true);
            }

            var flags = answer.Flags;
            answer.Flags = Volatile.Read(ref slot->Flags); // the state goes last, as a device model publishes it
            *slot = answer;
            Volatile.Write(ref slot->Flags, flags);
            d.Vcpus[0].Wake();

            var state2 = IoreqSlot.StateOf(flags);
            if (state2 is IoreqState.Ready or IoreqState.InProcess)
            {
                Assert.True(Eventually.Holds(() => d.State == DomainState.Blocked), $"state {d.State}\n{_hv.Dmesg()}"); // not answered yet: it waits
                Assert.Equal(0, d.Ioreq!.Refused);
                outcomes[0]++;
            }
            else if (state2 == IoreqState.ResponseReady && answer.Address == asked.Address && answer.Size == asked.Size
                && answer.Count == 1 && answer.Type == IoreqSlot.TypeCopy && IoreqSlot.IsRead(flags)
                && !IoreqSlot.DataIsPointer(flags) && answer.Data <= 0xFF)
            {
                // taken: the guest stores it to THR, a write request carrying the value
                Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready && !IoreqSlot.IsRead(slot->Flags)), $"state {d.State}\n{_hv.Dmesg()}");
                Assert.Equal(answer.Data, slot->Data);
                outcomes[1]++;
            }
            else
            {
                Assert.True(Eventually.Holds(() => d.State == DomainState.Crashed), $"state {d.State} flags 0x{flags:x2}\n{_hv.Dmesg()}");
                Assert.Contains("answered an ioreq with garbage", d.Ioreq!.LastRefusal, StringComparison.Ordinal);
                outcomes[2]++;
            }

            _hv.Hypervisor.DestroyDomain(d);
        }

        Assert.True(outcomes[1] > 0 && outcomes[2] > 0, $"waited {outcomes[0]}, taken {outcomes[1]}, refused {outcomes[2]}: the seed explores too little");

        // the hypervisor still serves a domain normally
        var (next, _) = Start(out var s);
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref s->Flags)) == IoreqState.Ready), _hv.Dmesg());
        Answer(s, 0x60, next);
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref s->Flags)) == IoreqState.Ready && !IoreqSlot.IsRead(s->Flags)), _hv.Dmesg());
        Answer(s, 0, next);
        Assert.True(Eventually.Holds(() => next.State == DomainState.Shutdown), $"state {next.State}\n{_hv.Dmesg()}");
    }

    [Fact]
    public void OnlyOneDeviceModelMayBeNamed()
    {
        var d = _hv.Hypervisor.CreateDomain(new DomainSpec { Name = "hvm", MemoryPages = 64, MaxMemoryPages = 64, Hvm = true });
        Assert.Equal(0, d.Ioreq!.SetDeviceModel(7));
        Assert.Equal(0, d.Ioreq.SetDeviceModel(7));
        Assert.Equal(-(int)XenErrno.EEXIST, d.Ioreq.SetDeviceModel(8));
        Assert.Null(_hv.Hypervisor.CreateDomain(new DomainSpec { Name = "pv", MemoryPages = 64, MaxMemoryPages = 64 }).Ioreq);
    }

    /// <summary>
    /// docs/SAVE-RESTORE.md, "HVM": a domain whose vCPU waits on an unanswered ioreq is saved with its PLIC and its
    /// device model's state; the restored copy is an HVM domain with the same PLIC, no device model until one is
    /// named (the ioreq port is not in its event channel record), and its vCPU asks the new device model the same
    /// question again: the access was never retired.
    /// </summary>
    [Fact]
    public void AnHvmDomainWaitingOnAnIoreqIsSavedWithItsPlicAndItsCopyAsksTheNewDeviceModelAgain()
    {
        var (d, result) = Start(out var slot);
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready), _hv.Dmesg());
        var plic = d.Hvm!.Plic;
        Assert.True(plic.TryWrite(4 * 10, 4, 3) && plic.TryWrite(0x2000, 4, 1u << 10));
        plic.SetLevel(10, true);
        d.Pause();
        var ioreqPort = d.Ioreq!.Ports[0];
        var model = new DeviceModelRecord(DeviceModelRecord.QemuDm, [new DeviceModelFile("uart", [1, 2, 3])]);
        using var image = new MemoryStream();
        DomainSave.Write(_hv.Hypervisor, d, image, deviceModel: model);
        var saved = plic.Save();
        _hv.Hypervisor.DestroyDomain(d);

        image.Position = 0;
        var read = DomainRestore.Read(image);
        Assert.True(read.HvmPlatform!.DeviceModel);
        Assert.Equal([1, 2, 3], read.DeviceModel!.Files.Single(f => f.Name == "uart").Contents);
        Assert.DoesNotContain(read.EventChannels.Ports, p => p.Port == ioreqPort);
        var r = DomainRestore.Rebuild(_hv.Hypervisor, read, "hvm-restored");
        Assert.True(r.Spec.Hvm);
        var restored = r.Hvm!.Plic.Save();
        Assert.Equal(saved.Priority, restored.Priority);
        Assert.Equal(saved.Level, restored.Level);
        Assert.Equal(saved.Pending, restored.Pending);
        Assert.Equal(saved.InService, restored.InService);
        Assert.Equal(saved.Enable, restored.Enable);
        Assert.Equal(saved.Threshold, restored.Threshold);
        Assert.True(r.Hvm.Plic.Claimable(0));
        Assert.Equal(-1, r.Ioreq!.DeviceModelDomain);

        Assert.Equal(0, r.Ioreq.SetDeviceModel(7));
        var fresh = (Disagg.Abi.Hvm.IoreqSlot*)r.Ioreq.Page.Pointer;
        r.Unpause();
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref fresh->Flags)) == IoreqState.Ready), _hv.Dmesg());
        Assert.Equal((VirtLayout.UartBase + 5, true), (fresh->Address, IoreqSlot.IsRead(fresh->Flags))); // the LSR load again
        Answer(fresh, 0x61, r);
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref fresh->Flags)) == IoreqState.Ready && !IoreqSlot.IsRead(fresh->Flags)), _hv.Dmesg());
        Assert.Equal(0x61UL, fresh->Data);
        Answer(fresh, 0, r);
        Assert.True(Eventually.Holds(() => r.State == DomainState.Shutdown), $"state {r.State}\n{_hv.Dmesg()}");
        var bytes = new byte[8];
        Assert.True(r.Vcpus[0].Hart.TryReadPhysical(result, bytes));
        Assert.Equal(0x61UL, BitConverter.ToUInt64(bytes));
    }

    /// <summary>An answer already in the slot when the domain is saved is taken by the save: the copy does not ask it again.</summary>
    [Fact]
    public void AnAnswerInTheSlotAtTheSaveIsTakenSoTheCopyGoesOnAfterTheAccess()
    {
        var (d, _) = Start(out var slot);
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready), _hv.Dmesg());
        d.Pause();
        slot->Data = 0x62;
        Volatile.Write(ref slot->Flags, IoreqSlot.MakeFlags(IoreqState.ResponseReady, read: true)); // answered, the vCPU not yet woken
        using var image = new MemoryStream();
        DomainSave.Write(_hv.Hypervisor, d, image);
        Assert.Equal(IoreqState.None, IoreqSlot.StateOf(slot->Flags));
        _hv.Hypervisor.DestroyDomain(d);

        image.Position = 0;
        var r = DomainRestore.Rebuild(_hv.Hypervisor, DomainRestore.Read(image));
        Assert.Equal(0, r.Ioreq!.SetDeviceModel(7));
        var fresh = (Disagg.Abi.Hvm.IoreqSlot*)r.Ioreq.Page.Pointer;
        r.Unpause();
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref fresh->Flags)) == IoreqState.Ready), _hv.Dmesg());
        Assert.Equal((VirtLayout.UartBase, false, 0x62UL), (fresh->Address, IoreqSlot.IsRead(fresh->Flags), fresh->Data)); // the THR store, with the saved answer
    }

    /// <summary>
    /// Issue 13: a device model that is there (its process holds the vCPU's port) and never answers has the domain
    /// crashed after its answer timeout, with a reason naming the device model, vCPU, access and wait; while nobody
    /// holds the port the wait does not count, however long.
    /// </summary>
    [Fact]
    public void ASilentDeviceModelHasItsDomainCrashedAfterTheAnswerTimeoutSayingWhatItWaitedFor()
    {
        var timeout = TimeSpan.FromMilliseconds(500);
        var (d, _) = Start(out var slot, timeout);
        Assert.Equal(timeout, d.Ioreq!.AnswerTimeout);
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready), _hv.Dmesg());
        Thread.Sleep(timeout * 3); // no device model process: the request waits for one, the domain is not crashed
        Assert.Equal(DomainState.Blocked, d.State);

        var service = _hv.Hypervisor.OpenService(7, 1); // the device model's process comes, binds the port, says nothing
        var bound = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(_hv.Hypervisor.EventChannels.BindInterdomain(service.Events, d.Id, d.Ioreq.Ports[0]) > 0);
        Assert.True(Eventually.Holds(() => d.State == DomainState.Crashed), $"state {d.State}\n{_hv.Dmesg()}");
        Assert.True(bound.Elapsed >= timeout * 0.9, $"crashed {bound.Elapsed.TotalMilliseconds} ms after the device model bound its port");
        var why = d.CrashReason!;
        Assert.Matches(@$"domain {d.Id} vcpu 0: device model \(domain 7\) did not answer an ioreq \(read of 1 bytes at 0x10000005, slot (Ready|InProcess)\) for [0-9.]+ s \(answer timeout 0\.5 s\): domain crashed", why);
        Assert.Contains(why, _hv.Dmesg(), StringComparison.Ordinal);
        Assert.Equal(why, d.Ioreq.LastRefusal);
        _hv.Hypervisor.CloseService(service);
    }

    /// <summary>A device model that dies leaves its request to the next one (the wait starts over); the next one answers and the guest goes on.</summary>
    [Fact]
    public void AWaitForADeviceModelThatDiedDoesNotCountAndTheNextOneIsAnswered()
    {
        var timeout = TimeSpan.FromSeconds(1.5);
        var (d, _) = Start(out var slot, timeout);
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready), _hv.Dmesg());
        var service = _hv.Hypervisor.OpenService(7, 1);
        Assert.True(_hv.Hypervisor.EventChannels.BindInterdomain(service.Events, d.Id, d.Ioreq!.Ports[0]) > 0);
        _hv.Hypervisor.CloseService(service); // killed with the request unanswered: the port goes back to unbound
        Thread.Sleep(timeout * 2);
        Assert.Equal(DomainState.Blocked, d.State);
        Assert.Null(d.CrashReason);

        Answer(slot, 0x63, d); // its successor takes the request from the slot
        Assert.True(Eventually.Holds(() => IoreqSlot.StateOf(Volatile.Read(ref slot->Flags)) == IoreqState.Ready && !IoreqSlot.IsRead(slot->Flags)), _hv.Dmesg());
        Answer(slot, 0, d);
        Assert.True(Eventually.Holds(() => d.State == DomainState.Shutdown), $"state {d.State}\n{_hv.Dmesg()}");
    }

    [Fact]
    public void AnAnswerTimeoutBelowTheFloorIsRefused()
    {
        var d = _hv.Hypervisor.CreateDomain(new DomainSpec { Name = "hvm", MemoryPages = 64, MaxMemoryPages = 64, Hvm = true });
        Assert.Equal(-(int)XenErrno.EINVAL, d.Ioreq!.SetDeviceModel(7, TimeSpan.FromMilliseconds(10)));
        Assert.Equal(-1, d.Ioreq.DeviceModelDomain);
        Assert.Equal(0, d.Ioreq.SetDeviceModel(7));
        Assert.Equal(IoreqServer.DefaultAnswerTimeout, d.Ioreq.AnswerTimeout);
    }

    /// <summary>A guest that loads the UART's LSR, stores the value to THR and to memory, and powers off.</summary>
    private (Domain Domain, ulong Result) Start(out Disagg.Abi.Hvm.IoreqSlot* slot, TimeSpan? answerTimeout = null)
    {
        var p = new GuestProgram();
        var result = p.Data(new byte[8]);
        p.La(GuestProgram.S1, result);
        p.Li(GuestProgram.T0, (int)VirtLayout.UartBase).Emit(Asm.I(0x03, GuestProgram.T1, 4, GuestProgram.T0, 5)); // lbu t1, 5(t0)
        p.Emit(Asm.S(0x23, 0, GuestProgram.T0, GuestProgram.T1, 0)); // sb t1, 0(t0)
        p.Emit(Asm.Sd(GuestProgram.T1, GuestProgram.S1, 0));
        p.Shutdown();
        var d = _hv.Hypervisor.CreateDomain(new DomainSpec { Name = "hvm", MemoryPages = 64, MaxMemoryPages = 64, Hvm = true });
        Assert.Equal(0, d.Ioreq!.SetDeviceModel(7, answerTimeout));
        d.PrepareBoot(p.Build(), GuestProgram.CodeBase, "");
        slot = (Disagg.Abi.Hvm.IoreqSlot*)d.Ioreq.Page.Pointer;
        d.Unpause();
        return (d, result);
    }

    private static void Answer(Disagg.Abi.Hvm.IoreqSlot* slot, ulong data, Domain d)
    {
        var read = IoreqSlot.IsRead(slot->Flags);
        slot->Data = data;
        Volatile.Write(ref slot->Flags, IoreqSlot.MakeFlags(IoreqState.ResponseReady, read));
        d.Vcpus[0].Wake(); // what the device model's event on the vCPU's port does
    }
}
