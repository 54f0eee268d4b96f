using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Disagg.Abi.Boot;
using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Abi.Hypercalls;
using Disagg.Abi.Io;

namespace Disagg.Abi.Tests;

/// <summary>
/// Pins every guest-visible struct to the offsets Xen's public headers give (64-bit xen_ulong_t,
/// as on Xen's Arm and RISC-V ports). A change here breaks every guest and every save image.
/// </summary>
public class XenLayoutTests
{
    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    [Fact]
    public void StartInfoMatchesXenH()
    {
        Assert.Equal(1168, Unsafe.SizeOf<StartInfo>());
        Assert.Equal(0, Offset<StartInfo>(nameof(StartInfo.Magic)));
        Assert.Equal(32, Offset<StartInfo>(nameof(StartInfo.NrPages)));
        Assert.Equal(40, Offset<StartInfo>(nameof(StartInfo.SharedInfo)));
        Assert.Equal(48, Offset<StartInfo>(nameof(StartInfo.Flags)));
        Assert.Equal(56, Offset<StartInfo>(nameof(StartInfo.StoreMfn)));
        Assert.Equal(64, Offset<StartInfo>(nameof(StartInfo.StoreEvtchn)));
        Assert.Equal(72, Offset<StartInfo>(nameof(StartInfo.ConsoleMfn)));
        Assert.Equal(80, Offset<StartInfo>(nameof(StartInfo.ConsoleEvtchn)));
        Assert.Equal(112, Offset<StartInfo>(nameof(StartInfo.ModStart)));
        Assert.Equal(120, Offset<StartInfo>(nameof(StartInfo.ModLen)));
        Assert.Equal(128, Offset<StartInfo>(nameof(StartInfo.CmdLine)));
        Assert.Equal(1152, Offset<StartInfo>(nameof(StartInfo.FirstP2mPfn)));
    }

    [Fact]
    public void SharedInfoAndVcpuInfoMatchXenH()
    {
        Assert.Equal(32, Unsafe.SizeOf<VcpuTimeInfo>());
        Assert.Equal(8, Offset<VcpuTimeInfo>(nameof(VcpuTimeInfo.TscTimestamp)));
        Assert.Equal(16, Offset<VcpuTimeInfo>(nameof(VcpuTimeInfo.SystemTime)));
        Assert.Equal(24, Offset<VcpuTimeInfo>(nameof(VcpuTimeInfo.TscToSystemMul)));
        Assert.Equal(28, Offset<VcpuTimeInfo>(nameof(VcpuTimeInfo.TscShift)));

        Assert.Equal(48, Unsafe.SizeOf<VcpuInfo>());
        Assert.Equal(0, Offset<VcpuInfo>(nameof(VcpuInfo.UpcallPending)));
        Assert.Equal(1, Offset<VcpuInfo>(nameof(VcpuInfo.UpcallMask)));
        Assert.Equal(8, Offset<VcpuInfo>(nameof(VcpuInfo.PendingSel)));
        Assert.Equal(16, Offset<VcpuInfo>(nameof(VcpuInfo.Time)));

        Assert.Equal(SharedInfo.EvtchnPendingOffset, SharedInfo.LegacyMaxVcpus * Unsafe.SizeOf<VcpuInfo>());
        Assert.Equal(1536, Offset<SharedInfo>(nameof(SharedInfo.EvtchnPending)));
        Assert.Equal(2048, Offset<SharedInfo>(nameof(SharedInfo.EvtchnMask)));
        Assert.Equal(2560, Offset<SharedInfo>(nameof(SharedInfo.WcVersion)));
        Assert.Equal(2564, Offset<SharedInfo>(nameof(SharedInfo.WcSec)));
        Assert.Equal(2568, Offset<SharedInfo>(nameof(SharedInfo.WcNsec)));
        Assert.Equal(4096, SharedInfo.MaxPorts);
        Assert.True(Unsafe.SizeOf<SharedInfo>() <= 4096);
    }

    [Fact]
    public void GrantStructsMatchGrantTableH()
    {
        Assert.Equal(8, Unsafe.SizeOf<GrantEntryV1>());
        Assert.Equal(2, Offset<GrantEntryV1>(nameof(GrantEntryV1.DomId)));
        Assert.Equal(4, Offset<GrantEntryV1>(nameof(GrantEntryV1.Frame)));
        Assert.Equal(512, GrantEntryV1.PerPage);

        Assert.Equal(16, Unsafe.SizeOf<GrantCopyPtr>());
        Assert.Equal(8, Offset<GrantCopyPtr>(nameof(GrantCopyPtr.DomId)));
        Assert.Equal(10, Offset<GrantCopyPtr>(nameof(GrantCopyPtr.Offset)));
        Assert.Equal(40, Unsafe.SizeOf<GrantCopy>());
        Assert.Equal(16, Offset<GrantCopy>(nameof(GrantCopy.Dest)));
        Assert.Equal(32, Offset<GrantCopy>(nameof(GrantCopy.Len)));
        Assert.Equal(34, Offset<GrantCopy>(nameof(GrantCopy.Flags)));
        Assert.Equal(36, Offset<GrantCopy>(nameof(GrantCopy.Status)));

        Assert.Equal(32, Unsafe.SizeOf<GrantMapRef>());
        Assert.Equal(12, Offset<GrantMapRef>(nameof(GrantMapRef.Ref)));
        Assert.Equal(16, Offset<GrantMapRef>(nameof(GrantMapRef.Dom)));
        Assert.Equal(18, Offset<GrantMapRef>(nameof(GrantMapRef.Status)));
        Assert.Equal(20, Offset<GrantMapRef>(nameof(GrantMapRef.Handle)));
        Assert.Equal(24, Offset<GrantMapRef>(nameof(GrantMapRef.DevBusAddr)));

        Assert.Equal(24, Unsafe.SizeOf<GrantSetupTable>());
        Assert.Equal(16, Offset<GrantSetupTable>(nameof(GrantSetupTable.FrameList)));
        Assert.Equal(16, Unsafe.SizeOf<GrantQuerySize>());
        Assert.Equal(12, Offset<GrantQuerySize>(nameof(GrantQuerySize.Status)));
    }

    [Fact]
    public void EventChannelOpsMatchEventChannelH()
    {
        Assert.Equal(8, Unsafe.SizeOf<EvtchnAllocUnbound>());
        Assert.Equal(4, Offset<EvtchnAllocUnbound>(nameof(EvtchnAllocUnbound.Port)));
        Assert.Equal(12, Unsafe.SizeOf<EvtchnBindInterdomain>());
        Assert.Equal(4, Offset<EvtchnBindInterdomain>(nameof(EvtchnBindInterdomain.RemotePort)));
        Assert.Equal(8, Offset<EvtchnBindInterdomain>(nameof(EvtchnBindInterdomain.LocalPort)));
        Assert.Equal(12, Unsafe.SizeOf<EvtchnBindVirq>());
        Assert.Equal(8, Unsafe.SizeOf<EvtchnBindIpi>());
        Assert.Equal(24, Unsafe.SizeOf<EvtchnStatus>());
        Assert.Equal(8, Offset<EvtchnStatus>(nameof(EvtchnStatus.Status)));
        Assert.Equal(16, Offset<EvtchnStatus>(nameof(EvtchnStatus.RemoteDom)));
        Assert.Equal(20, Offset<EvtchnStatus>(nameof(EvtchnStatus.RemotePort)));
        Assert.Equal(24u, (uint)Virq.Count);
    }

    [Fact]
    public void HypercallArgumentStructsMatchXenHeaders()
    {
        Assert.Equal(32, Unsafe.SizeOf<MemoryReservation>());
        Assert.Equal(16, Offset<MemoryReservation>(nameof(MemoryReservation.ExtentOrder)));
        Assert.Equal(24, Offset<MemoryReservation>(nameof(MemoryReservation.DomId)));
        Assert.Equal(24, Unsafe.SizeOf<SchedPoll>());
        Assert.Equal(8, Offset<SchedPoll>(nameof(SchedPoll.NrPorts)));
        Assert.Equal(16, Offset<SchedPoll>(nameof(SchedPoll.Timeout)));
        Assert.Equal(0x0A58454Eu, XenSbiExtension.Id);
    }

    [Fact]
    public void ConsoleAndXenstoreRingsMatchTheirHeaders()
    {
        Assert.Equal(1024, Offset<ConsoleInterface>(nameof(ConsoleInterface.Out)));
        Assert.Equal(3072, Offset<ConsoleInterface>(nameof(ConsoleInterface.InCons)));
        Assert.Equal(3076, Offset<ConsoleInterface>(nameof(ConsoleInterface.InProd)));
        Assert.Equal(3080, Offset<ConsoleInterface>(nameof(ConsoleInterface.OutCons)));
        Assert.Equal(3084, Offset<ConsoleInterface>(nameof(ConsoleInterface.OutProd)));

        Assert.Equal(1024, Offset<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.Rsp)));
        Assert.Equal(2048, Offset<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.ReqCons)));
        Assert.Equal(2052, Offset<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.ReqProd)));
        Assert.Equal(2056, Offset<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.RspCons)));
        Assert.Equal(2060, Offset<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.RspProd)));
        Assert.Equal(2064, Offset<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.ServerFeatures)));
        Assert.Equal(2068, Offset<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.Connection)));
        Assert.Equal(2072, Offset<XenstoreDomainInterface>(nameof(XenstoreDomainInterface.Error)));

        Assert.Equal(16, Unsafe.SizeOf<XsWireHeader>());
        Assert.Equal(4, Offset<XsWireHeader>(nameof(XsWireHeader.ReqId)));
        Assert.Equal(8, Offset<XsWireHeader>(nameof(XsWireHeader.TxId)));
        Assert.Equal(12, Offset<XsWireHeader>(nameof(XsWireHeader.Len)));
    }

    [Fact]
    public void BlkifMatchesBlkifH()
    {
        Assert.Equal(112, Unsafe.SizeOf<BlkifRequest>());
        Assert.Equal(1, Offset<BlkifRequest>(nameof(BlkifRequest.NrSegments)));
        Assert.Equal(2, Offset<BlkifRequest>(nameof(BlkifRequest.Handle)));
        Assert.Equal(8, Offset<BlkifRequest>(nameof(BlkifRequest.Id)));
        Assert.Equal(16, Offset<BlkifRequest>(nameof(BlkifRequest.SectorNumber)));
        Assert.Equal(24, Offset<BlkifRequest>(nameof(BlkifRequest.Segments)));
        Assert.Equal(8, Unsafe.SizeOf<BlkifSegment>());
        Assert.Equal(4, Offset<BlkifSegment>(nameof(BlkifSegment.FirstSect)));
        Assert.Equal(5, Offset<BlkifSegment>(nameof(BlkifSegment.LastSect)));
        Assert.Equal(16, Unsafe.SizeOf<BlkifResponse>());
        Assert.Equal(8, Offset<BlkifResponse>(nameof(BlkifResponse.Operation)));
        Assert.Equal(10, Offset<BlkifResponse>(nameof(BlkifResponse.Status)));
        Assert.Equal(2, Offset<BlkifRequestIndirect>(nameof(BlkifRequestIndirect.NrSegments)));
        Assert.Equal(24, Offset<BlkifRequestIndirect>(nameof(BlkifRequestIndirect.Handle)));
        Assert.Equal(28, Offset<BlkifRequestIndirect>(nameof(BlkifRequestIndirect.IndirectGrefs)));
        Assert.Equal(24, Offset<BlkifRequestDiscard>(nameof(BlkifRequestDiscard.NrSectors)));
    }

    [Fact]
    public void NetifMatchesNetifH()
    {
        Assert.Equal(12, Unsafe.SizeOf<NetifTxRequest>());
        Assert.Equal(4, Offset<NetifTxRequest>(nameof(NetifTxRequest.Offset)));
        Assert.Equal(6, Offset<NetifTxRequest>(nameof(NetifTxRequest.Flags)));
        Assert.Equal(8, Offset<NetifTxRequest>(nameof(NetifTxRequest.Id)));
        Assert.Equal(10, Offset<NetifTxRequest>(nameof(NetifTxRequest.Size)));
        Assert.Equal(4, Unsafe.SizeOf<NetifTxResponse>());
        Assert.Equal(8, Unsafe.SizeOf<NetifRxRequest>());
        Assert.Equal(4, Offset<NetifRxRequest>(nameof(NetifRxRequest.Gref)));
        Assert.Equal(8, Unsafe.SizeOf<NetifRxResponse>());
        Assert.Equal(6, Offset<NetifRxResponse>(nameof(NetifRxResponse.Status)));
    }

    [Fact]
    public void WireEnumsKeepXenNumbers()
    {
        Assert.Equal(22u, (uint)XsMessageType.DirectoryPart);
        Assert.Equal(21u, (uint)XsMessageType.ResetWatches);
        Assert.Equal(16u, (uint)XsMessageType.Error);
        Assert.Equal(6, (int)XenbusState.Closed);
        Assert.Equal(6, (byte)BlkifOperation.Indirect);
        Assert.Equal(5, (byte)BlkifOperation.Discard);
        Assert.Equal(-13, (short)GrantStatus.NoSpace);
        Assert.Equal(10u, (uint)GrantTableOp.GetVersion);
        Assert.Equal(9u, (uint)EventChannelOp.Unmask);
        Assert.Equal(41u, (uint)HypercallNumber.DmOp);
        Assert.Equal(38, (int)XenErrno.ENOSYS);
    }

    [Fact]
    public void ServiceChannelPagesAndRunstateKeepTheirLayout()
    {
        Assert.Equal(48, System.Runtime.CompilerServices.Unsafe.SizeOf<Disagg.Abi.Hypercalls.VcpuRunstateInfo>());
        Assert.Equal(16, Marshal.OffsetOf<Disagg.Abi.Hypercalls.VcpuRunstateInfo>(nameof(Disagg.Abi.Hypercalls.VcpuRunstateInfo.RunningTime)).ToInt32());
        Assert.Equal(40, Marshal.OffsetOf<Disagg.Abi.Hypercalls.VcpuRunstateInfo>(nameof(Disagg.Abi.Hypercalls.VcpuRunstateInfo.OfflineTime)).ToInt32());
        // The pending bitmap ends before the sleeping flag; each ring fills its page exactly or within it.
        Assert.True(Disagg.Abi.Service.ServiceEventPage.PendingBytes <= Disagg.Abi.Service.ServiceEventPage.SleepingOffset);
        Assert.Equal(4096, Disagg.Abi.Service.ServiceSendRing.EntriesOffset + (Disagg.Abi.Service.ServiceSendRing.Entries * 4));
        Assert.Equal(Disagg.Abi.Service.ServiceCopyRing.EntrySize, System.Runtime.CompilerServices.Unsafe.SizeOf<Disagg.Abi.Grants.GrantCopy>());
        Assert.Equal(4096, Disagg.Abi.Service.ServiceCopyRing.EntriesOffset + (Disagg.Abi.Service.ServiceCopyRing.Entries * Disagg.Abi.Service.ServiceCopyRing.EntrySize));
    }
}
