using PolyType;

namespace Disagg.Toolstack.Protocol;

/// <summary>
/// Every message between a `disagg` CLI and its host daemon (the control domain's Unix socket,
/// state-dir/disagg.sock). A request carries an Id its reply echoes; console output pushed to an
/// attached client has Id 0. Union tags are wire values: append-only, never reused.
/// </summary>
[DerivedTypeShape(typeof(HostStatusRequest), Tag = 1)]
[DerivedTypeShape(typeof(HostDownRequest), Tag = 2)]
[DerivedTypeShape(typeof(ServiceListRequest), Tag = 3)]
[DerivedTypeShape(typeof(ServiceActionRequest), Tag = 4)]
[DerivedTypeShape(typeof(CreateRequest), Tag = 5)]
[DerivedTypeShape(typeof(DomainActionRequest), Tag = 6)]
[DerivedTypeShape(typeof(ListRequest), Tag = 7)]
[DerivedTypeShape(typeof(MemoryRequest), Tag = 8)]
[DerivedTypeShape(typeof(VcpuSetRequest), Tag = 9)]
[DerivedTypeShape(typeof(VcpuPinRequest), Tag = 10)]
[DerivedTypeShape(typeof(VcpuListRequest), Tag = 11)]
[DerivedTypeShape(typeof(SchedCreditRequest), Tag = 12)]
[DerivedTypeShape(typeof(DmesgRequest), Tag = 13)]
[DerivedTypeShape(typeof(InfoRequest), Tag = 14)]
[DerivedTypeShape(typeof(ConsoleAttachRequest), Tag = 15)]
[DerivedTypeShape(typeof(ConsoleInput), Tag = 16)]
[DerivedTypeShape(typeof(DeviceAttachRequest), Tag = 17)]
[DerivedTypeShape(typeof(DeviceDetachRequest), Tag = 18)]
[DerivedTypeShape(typeof(DeviceListRequest), Tag = 19)]
[DerivedTypeShape(typeof(ServiceSwapRequest), Tag = 20)]
[DerivedTypeShape(typeof(ServiceAddRequest), Tag = 45)]
[DerivedTypeShape(typeof(HostCountersRequest), Tag = 150)]
[DerivedTypeShape(typeof(ChannelFaultRequest), Tag = 210)]
[DerivedTypeShape(typeof(OkReply), Tag = 50)]
[DerivedTypeShape(typeof(ErrorReply), Tag = 51)]
[DerivedTypeShape(typeof(HostStatusReply), Tag = 52)]
[DerivedTypeShape(typeof(ServiceListReply), Tag = 53)]
[DerivedTypeShape(typeof(CreatedReply), Tag = 54)]
[DerivedTypeShape(typeof(DomainListReply), Tag = 55)]
[DerivedTypeShape(typeof(VcpuListReply), Tag = 56)]
[DerivedTypeShape(typeof(SchedCreditReply), Tag = 57)]
[DerivedTypeShape(typeof(DmesgReply), Tag = 58)]
[DerivedTypeShape(typeof(InfoReply), Tag = 59)]
[DerivedTypeShape(typeof(ConsoleOutput), Tag = 60)]
[DerivedTypeShape(typeof(ConsoleClosed), Tag = 61)]
[DerivedTypeShape(typeof(DeviceListReply), Tag = 62)]
[DerivedTypeShape(typeof(SaveRequest), Tag = 120)]
[DerivedTypeShape(typeof(RestoreRequest), Tag = 121)]
[DerivedTypeShape(typeof(SaveProgress), Tag = 122)]
[DerivedTypeShape(typeof(SavedReply), Tag = 123)]
[DerivedTypeShape(typeof(RestoredReply), Tag = 124)]
[DerivedTypeShape(typeof(MigrateRequest), Tag = 130)]
[DerivedTypeShape(typeof(MigrateProgress), Tag = 131)]
[DerivedTypeShape(typeof(MigrateReply), Tag = 132)]
[DerivedTypeShape(typeof(MigrateChallenge), Tag = 140)]
[DerivedTypeShape(typeof(MigrateOffer), Tag = 141)]
[DerivedTypeShape(typeof(MigrateAnswer), Tag = 142)]
[DerivedTypeShape(typeof(MigrateReleased), Tag = 200)]
[DerivedTypeShape(typeof(HostCountersReply), Tag = 151)]
internal abstract record DaemonMessage
{
    /// <summary>Chosen by the CLI, echoed by the reply; 0 for pushed console output.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long Id { get; init; }
}
