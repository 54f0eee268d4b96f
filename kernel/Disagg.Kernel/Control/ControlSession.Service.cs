using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Abi.Hypercalls;
using Disagg.Control.Messages;
using Disagg.Interop;
using Disagg.Kernel.Core.Domains;

namespace Disagg.Kernel.Control;

/// <summary>
/// The service-domain side of a control connection: the channel (event page, doorbell, copy buffer),
/// event channel operations, grant maps and grant copies — each checked as the hypercall would be for a
/// guest, with the connection's domain id as the caller. Nothing here trusts an id, port, ref or offset.
/// </summary>
internal sealed partial class ControlSession
{
    /// <summary>Grant copies one request may carry: bounded work per message, as Xen preempts long batches.</summary>
    public const int MaxCopyBatch = 1024;

    private ControlMessage HandleService(ControlMessage request, out FileDescriptor[]? fds)
    {
        fds = null;
        var hv = server.Hypervisor;
        if (request is OpenServiceChannel open)
        {
            if (_service is { IsClosed: false })
            {
                return Error(XenErrno.EEXIST, $"domain {_domainId}: the service channel is already open");
            }

            if (open.BufferPages is < 1 or > ServiceDomain.MaxBufferPages)
            {
                return Error(XenErrno.EINVAL, $"domain {_domainId}: copy buffer of {open.BufferPages} pages (1..{ServiceDomain.MaxBufferPages})");
            }

            if (open.GrantFrames is < 0 or > ServiceDomain.MaxGrantFrames)
            {
                return Error(XenErrno.EINVAL, $"domain {_domainId}: grant table of {open.GrantFrames} frames (0..{ServiceDomain.MaxGrantFrames})");
            }

            try
            {
                _service = hv.OpenService(_domainId, open.BufferPages, open.GrantFrames);
            }
            catch (InvalidOperationException e)
            {
                return Error(XenErrno.EBUSY, e.Message);
            }
            catch (Disagg.Interop.InteropException e)
            {
                return Error(XenErrno.ENOMEM, $"domain {_domainId}: service channel: {e.Message}");
            }

            fds = [_service.EventPage.Fd.Duplicate(), _service.Doorbell.Fd.Duplicate(), _service.Buffer.Fd.Duplicate(),
                _service.SendRing.Fd.Duplicate(), _service.SendKick.Fd.Duplicate(), .. _service.GrantTableSegment is { } g ? [g.Fd.Duplicate()] : Array.Empty<FileDescriptor>()];
            return new ServiceChannelOpened(_domainId, Core.Ipc.Events.EventChannelTable.MaxPorts, open.BufferPages, open.GrantFrames);
        }

        var service = _service;
        if (service == null)
        {
            return Error(XenErrno.EINVAL, $"domain {_domainId}: open the service channel first");
        }

        if (service.IsClosed)
        {
            return Error(XenErrno.EBUSY, $"domain {_domainId}: a newer connection of this service took over its channel");
        }

        switch (request)
        {
            case AllocUnboundPort a:
                return Port(hv.EventChannels.AllocUnbound(service.Events, DomainIds.Self, a.RemoteDomain), $"alloc_unbound for domain {a.RemoteDomain}");
            case BindInterdomainPort b:
                return Port(hv.EventChannels.BindInterdomain(service.Events, b.RemoteDomain, b.RemotePort), $"bind_interdomain to domain {b.RemoteDomain} port {b.RemotePort}");
            case SendEvent e:
                return Status(hv.EventChannels.Send(service.Events, e.Port), $"send on port {e.Port}");
            case CloseEventPort c:
                return Status(hv.EventChannels.Close(service.Events, c.Port), $"close port {c.Port}");
            case MapGrantRef m:
                {
                    GrantStatus status;
                    long handle;
                    ulong frame;
                    FileDescriptor? fd;
                    if (hv.Domains[m.Domain] is { } domain)
                    {
                        status = service.Maps.Map(domain, m.Ref, m.ReadOnly, out handle, out frame, out fd);
                    }
                    else if (m.Domain != _domainId && hv.Services.TryGetValue(m.Domain, out var granter))
                    {
                        status = service.Maps.Map(granter, m.Ref, m.ReadOnly, out handle, out frame, out fd);
                    }
                    else
                    {
                        return Error(XenErrno.ESRCH, $"map grant {m.Ref} of domain {m.Domain}: no such domain");
                    }

                    if (status != GrantStatus.Okay)
                    {
                        return new ErrorReply((int)XenErrno.EINVAL, $"map grant {m.Ref} of domain {m.Domain}: {status} ({(int)status})") { };
                    }

                    fds = [fd!];
                    return new GrantMapped(handle, frame);
                }

            case UnmapGrantRef u:
                {
                    var status = service.Maps.Unmap(u.Handle);
                    return status == GrantStatus.Okay ? new OkReply() : Error(XenErrno.EINVAL, $"unmap handle {u.Handle}: {status}");
                }

            case GrantCopyBatch batch:
                return Copy(service, batch);
            case AllocSharedPage:
                {
                    if (service.Grants == null)
                    {
                        return Error(XenErrno.EINVAL, $"domain {_domainId}: shared pages are for native frontends (open the channel with a grant table)");
                    }

                    if (service.AllocSharedPage(out var frame) is not { } page)
                    {
                        return Error(XenErrno.ENOMEM, $"domain {_domainId}: already holds {ServiceDomain.MaxSharedPages} shared pages");
                    }

                    fds = [page.Fd.Duplicate()];
                    return new SharedPageAllocated(frame);
                }

            default:
                return Error(XenErrno.ENOSYS, $"{request.GetType().Name} is not a service request");
        }
    }

    private GrantCopyResult Copy(ServiceDomain service, GrantCopyBatch batch)
    {
        var ops = batch.Ops ?? [];
        if (ops.Length > MaxCopyBatch)
        {
            throw new DomainRequestException(XenErrno.E2BIG, $"domain {_domainId}: {ops.Length} grant copies in one batch (at most {MaxCopyBatch})");
        }

        var status = new short[ops.Length];
        for (var i = 0; i < ops.Length; i++)
        {
            var o = ops[i];
            var copy = new GrantCopy
            {
                Source = new GrantCopyPtr { RefOrFrame = o.SourceRefOrFrame, DomId = (ushort)(o.SourceIsGrant ? o.SourceDomain : DomainIds.Self), Offset = o.SourceOffset },
                Dest = new GrantCopyPtr { RefOrFrame = o.DestRefOrFrame, DomId = (ushort)(o.DestIsGrant ? o.DestDomain : DomainIds.Self), Offset = o.DestOffset },
                Len = o.Length,
                Flags = (ushort)((o.SourceIsGrant ? GrantCopy.SourceGref : 0) | (o.DestIsGrant ? GrantCopy.DestGref : 0)),
            };
            if ((o.SourceIsGrant && (uint)o.SourceDomain > ushort.MaxValue) || (o.DestIsGrant && (uint)o.DestDomain > ushort.MaxValue))
            {
                status[i] = (short)GrantStatus.BadDomain;
                continue;
            }

            status[i] = (short)server.Hypervisor.GrantCopier.Copy(service.GrantView, ref copy);
        }

        return new GrantCopyResult(status);
    }

    private ControlMessage Port(int result, string what) =>
        result >= 0 ? new EventPortBound(result) : Error((XenErrno)(-result), $"domain {_domainId}: {what}: {(XenErrno)(-result)}");

    private ControlMessage Status(int result, string what) =>
        result >= 0 ? new OkReply() : Error((XenErrno)(-result), $"domain {_domainId}: {what}: {(XenErrno)(-result)}");
}
