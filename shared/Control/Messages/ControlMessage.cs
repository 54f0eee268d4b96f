using PolyType;

namespace Disagg.Control.Messages;

/// <summary>
/// Every message on a kernel control connection. A request carries an Id the reply echoes;
/// events the kernel pushes have Id 0. Union tags are wire values: append-only, never reused.
/// </summary>
[DerivedTypeShape(typeof(Hello), Tag = 1)]
[DerivedTypeShape(typeof(HelloReply), Tag = 2)]
[DerivedTypeShape(typeof(OkReply), Tag = 3)]
[DerivedTypeShape(typeof(ErrorReply), Tag = 4)]
[DerivedTypeShape(typeof(CreateDomain), Tag = 10)]
[DerivedTypeShape(typeof(DomainCreated), Tag = 11)]
[DerivedTypeShape(typeof(LoadKernel), Tag = 12)]
[DerivedTypeShape(typeof(DomainCommand), Tag = 13)]
[DerivedTypeShape(typeof(ListDomains), Tag = 14)]
[DerivedTypeShape(typeof(DomainList), Tag = 15)]
[DerivedTypeShape(typeof(SetMemory), Tag = 16)]
[DerivedTypeShape(typeof(SetSchedCredit), Tag = 17)]
[DerivedTypeShape(typeof(SetVcpuAffinity), Tag = 18)]
[DerivedTypeShape(typeof(SetVcpusOnline), Tag = 19)]
[DerivedTypeShape(typeof(ListVcpus), Tag = 20)]
[DerivedTypeShape(typeof(VcpuList), Tag = 21)]
[DerivedTypeShape(typeof(SaveDomain), Tag = 22)]
[DerivedTypeShape(typeof(RestoreDomain), Tag = 23)]
[DerivedTypeShape(typeof(ReadMessageLog), Tag = 30)]
[DerivedTypeShape(typeof(MessageLogChunk), Tag = 31)]
[DerivedTypeShape(typeof(GetHostInfo), Tag = 32)]
[DerivedTypeShape(typeof(HostInfo), Tag = 33)]
[DerivedTypeShape(typeof(Subscribe), Tag = 34)]
[DerivedTypeShape(typeof(DomainEvent), Tag = 35)]
[DerivedTypeShape(typeof(RegisterService), Tag = 40)]
[DerivedTypeShape(typeof(ServiceRegistered), Tag = 41)]
[DerivedTypeShape(typeof(ReadConsole), Tag = 36)]
[DerivedTypeShape(typeof(ConsoleChunk), Tag = 37)]
[DerivedTypeShape(typeof(WriteConsoleInput), Tag = 38)]
[DerivedTypeShape(typeof(ConsoleInputAccepted), Tag = 39)]
[DerivedTypeShape(typeof(OpenServiceChannel), Tag = 50)]
[DerivedTypeShape(typeof(ServiceChannelOpened), Tag = 51)]
[DerivedTypeShape(typeof(AllocUnboundPort), Tag = 52)]
[DerivedTypeShape(typeof(BindInterdomainPort), Tag = 53)]
[DerivedTypeShape(typeof(SendEvent), Tag = 54)]
[DerivedTypeShape(typeof(CloseEventPort), Tag = 55)]
[DerivedTypeShape(typeof(EventPortBound), Tag = 56)]
[DerivedTypeShape(typeof(MapGrantRef), Tag = 57)]
[DerivedTypeShape(typeof(GrantMapped), Tag = 58)]
[DerivedTypeShape(typeof(UnmapGrantRef), Tag = 59)]
[DerivedTypeShape(typeof(GrantCopyBatch), Tag = 60)]
[DerivedTypeShape(typeof(GrantCopyResult), Tag = 61)]
[DerivedTypeShape(typeof(AllocSharedPage), Tag = 62)]
[DerivedTypeShape(typeof(SharedPageAllocated), Tag = 63)]
[DerivedTypeShape(typeof(CleanDirtyLog), Tag = 130)]
[DerivedTypeShape(typeof(DirtyBitmap), Tag = 131)]
[DerivedTypeShape(typeof(MigrationSend), Tag = 132)]
[DerivedTypeShape(typeof(MigrationRoundSent), Tag = 133)]
[DerivedTypeShape(typeof(MigrationReceive), Tag = 134)]
[DerivedTypeShape(typeof(HashMemory), Tag = 135)]
[DerivedTypeShape(typeof(MemoryHash), Tag = 136)]
public abstract record ControlMessage
{
    /// <summary>Chosen by the requester, echoed by the reply; 0 for events.</summary>
    public long Id { get; init; }
}
