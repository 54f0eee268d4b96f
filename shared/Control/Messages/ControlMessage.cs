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
[DerivedTypeShape(typeof(ReadMessageLog), Tag = 30)]
[DerivedTypeShape(typeof(MessageLogChunk), Tag = 31)]
[DerivedTypeShape(typeof(GetHostInfo), Tag = 32)]
[DerivedTypeShape(typeof(HostInfo), Tag = 33)]
[DerivedTypeShape(typeof(Subscribe), Tag = 34)]
[DerivedTypeShape(typeof(DomainEvent), Tag = 35)]
[DerivedTypeShape(typeof(RegisterService), Tag = 40)]
[DerivedTypeShape(typeof(ServiceRegistered), Tag = 41)]
public abstract record ControlMessage
{
    /// <summary>Chosen by the requester, echoed by the reply; 0 for events.</summary>
    public long Id { get; init; }
}
