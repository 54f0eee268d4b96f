using Disagg.Abi.Hypercalls;

namespace Disagg.Kernel.Core.Domains;

/// <summary>
/// Pushed to the control domain whenever a domain's state changes (the kernel never waits to be polled). Detail: why
/// the kernel crashed it (<see cref="Domain.CrashReason"/>), null for anything else.
/// </summary>
public readonly record struct DomainStateChange(int DomainId, DomainState State, ShutdownReason Reason, long TimestampNs, string? Detail = null);
