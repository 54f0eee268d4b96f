using Disagg.Abi.Hypercalls;
using Disagg.Control.Messages;
using Disagg.Interop;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Ioreq;

namespace Disagg.Kernel.Control;

/// <summary>
/// Device-model requests (Xen's dm_op, restricted to the domain a device model serves): the control domain
/// names an HVM domain's device model; that service domain — and no other — maps the ioreq page, drives
/// the domain's PLIC lines, shuts it down (the test device), and reads or writes its RAM a bounded piece
/// at a time (virtio queues), never holding the RAM itself.
/// </summary>
internal sealed partial class ControlSession
{
    private static bool IsDeviceModelRequest(ControlMessage request) =>
        request is SetDeviceModel or MapIoreqPage or SetIrqLevel or DeviceModelShutdown or ReadGuestMemory or WriteGuestMemory or GuestMemoryBatch
            or MapGuestPages or UnmapGuestPages;

    private ControlMessage HandleDeviceModel(ControlMessage request, out FileDescriptor[]? fds)
    {
        fds = null;
        var hv = server.Hypervisor;
        if (request is SetDeviceModel s)
        {
            if (!_privileged)
            {
                return Error(XenErrno.EPERM, $"domain {_domainId} may not name a device model: only the control domain may");
            }

            var target = Hvm(s.Domain);
            if (s.DeviceModelDomain <= 0 || !server.ServiceTokens.Values.Contains(s.DeviceModelDomain))
            {
                return Error(XenErrno.EINVAL, $"domain {s.Domain}: device model domain {s.DeviceModelDomain} is not a registered service");
            }

            var timeout = s.AnswerTimeoutMs == 0 ? (TimeSpan?)null : TimeSpan.FromMilliseconds(s.AnswerTimeoutMs);
            if (timeout < IoreqServer.MinAnswerTimeout)
            {
                return Error(XenErrno.EINVAL, $"domain {s.Domain}: a device model answer timeout of {s.AnswerTimeoutMs} ms (at least {IoreqServer.MinAnswerTimeout.TotalMilliseconds} ms)");
            }

            var rc = target.Ioreq!.SetDeviceModel(s.DeviceModelDomain, timeout);
            return rc == 0 ? new OkReply() : Error((XenErrno)(-rc), $"domain {s.Domain}: already has device model domain {target.Ioreq.DeviceModelDomain}");
        }

        var domain = Served(request switch
        {
            MapIoreqPage m => m.Domain,
            SetIrqLevel i => i.Domain,
            DeviceModelShutdown d => d.Domain,
            ReadGuestMemory r => r.Domain,
            WriteGuestMemory w => w.Domain,
            GuestMemoryBatch b => b.Domain,
            MapGuestPages m => m.Domain,
            UnmapGuestPages u => u.Domain,
            _ => -1,
        });
        switch (request)
        {
            case MapIoreqPage:
                domain.Ioreq!.RingPages.Forget(); // a new device model process: its predecessor's mappings died with it
                fds = [domain.Ioreq!.Page.Fd.Duplicate()];
                return new IoreqPageMapped(domain.Id, domain.Vcpus.Count, (ulong)domain.Memory.PopulatedPages * 4096);
            case SetIrqLevel i:
                if (i.Irq < 1 || i.Irq > domain.Hvm!.Plic.Sources)
                {
                    return Error(XenErrno.EINVAL, $"domain {domain.Id}: interrupt {i.Irq} is not a PLIC source (1..{domain.Hvm!.Plic.Sources})");
                }

                domain.Hvm.Plic.SetLevel(i.Irq, i.Asserted);
                return new OkReply();
            case DeviceModelShutdown d:
                if (d.Reason is not ((int)ShutdownReason.Poweroff or (int)ShutdownReason.Reboot or (int)ShutdownReason.Crash))
                {
                    return Error(XenErrno.EINVAL, $"domain {domain.Id}: a device model shuts down with poweroff, reboot or crash, not reason {d.Reason}");
                }

                hv.Log.WriteKernel($"domain {domain.Id}: device model (domain {_domainId}) shuts it down: {(ShutdownReason)d.Reason}");
                domain.Shutdown((ShutdownReason)d.Reason);
                return new OkReply();
            case ReadGuestMemory r:
                {
                    var data = new byte[CheckRange(domain, r.Address, r.Length)];
                    return DeviceModelMemory.TryCopy(domain, r.Address, data, write: false) ? new GuestMemoryData(data) : Gone(domain);
                }

            case WriteGuestMemory w:
                CheckRange(domain, w.Address, w.Data?.Length ?? 0);
                return DeviceModelMemory.TryCopy(domain, w.Address, w.Data ?? [], write: true) ? new OkReply() : Gone(domain);
            case GuestMemoryBatch b:
                return Batch(domain, b);
            case MapGuestPages m:
                fds = domain.Ioreq!.RingPages.Map(m.Address, m.Pages, out var why);
                return fds is null ? Error(XenErrno.EINVAL, why!) : new GuestPagesMapped(domain.Id, m.Address, m.Pages);
            case UnmapGuestPages u:
                domain.Ioreq!.RingPages.Unmap(u.Address, u.Pages);
                return new OkReply();
            default:
                return Error(XenErrno.ENOSYS, $"{request.GetType().Name} is not a device-model request");
        }
    }

    /// <summary>Checks every range of the batch, then writes in order and reads: all of it or, for a bad range, nothing.</summary>
    private static ControlMessage Batch(Domain domain, GuestMemoryBatch b)
    {
        var total = 0L;
        foreach (var w in b.Writes ?? [])
        {
            total += CheckRange(domain, w.Address, w.Data?.Length ?? 0);
        }

        if (total > GuestMemoryBatch.MaxWriteBytes)
        {
            return Error(XenErrno.E2BIG, $"domain {domain.Id}: a guest-memory batch of {total} bytes of writes (at most {GuestMemoryBatch.MaxWriteBytes})");
        }

        var read = b.ReadLength == 0 ? [] : new byte[CheckRange(domain, b.ReadAddress, b.ReadLength)];
        foreach (var w in b.Writes ?? [])
        {
            if (!DeviceModelMemory.TryCopy(domain, w.Address, w.Data ?? [], write: true))
            {
                return Gone(domain);
            }
        }

        return read.Length == 0 || DeviceModelMemory.TryCopy(domain, b.ReadAddress, read, write: false) ? new GuestMemoryData(read) : Gone(domain);
    }

    private Domain Hvm(int id)
    {
        var d = server.Hypervisor.Domains[id] ?? throw new DomainRequestException(XenErrno.ESRCH, $"no domain {id}");
        return d.Ioreq is null ? throw new DomainRequestException(XenErrno.EINVAL, $"domain {id} is not an HVM domain") : d;
    }

    /// <summary>The HVM domain <paramref name="id"/>, if this connection is its device model.</summary>
    private Domain Served(int id)
    {
        var d = Hvm(id);
        return d.Ioreq!.DeviceModelDomain == _domainId ? d
            : throw new DomainRequestException(XenErrno.EPERM, $"domain {_domainId} is not the device model of domain {id}");
    }

    private static int CheckRange(Domain d, ulong address, int length) =>
        DeviceModelMemory.CheckRange(d, address, length) is { } why ? throw new DomainRequestException(XenErrno.EFAULT, why) : length;

    private static ErrorReply Gone(Domain d) => Error(XenErrno.ESRCH, $"domain {d.Id} is being destroyed or its RAM changed");
}
