using Disagg.Abi.Hypercalls;
using Disagg.Control.Messages;
using Disagg.DomainImage;
using Disagg.Kernel.Core;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Memory;
using Disagg.Kernel.Core.Persist;

namespace Disagg.Kernel.Control;

/// <summary>SaveDomain and RestoreDomain: a paused domain to an image file on this host, and back (docs/SAVE-RESTORE.md).</summary>
internal static class PersistRequests
{
    public static OkReply Save(Hypervisor hv, SaveDomain s)
    {
        var d = hv.Domains[s.DomainId] ?? throw new DomainRequestException(XenErrno.ESRCH, $"no domain {s.DomainId}");
        if (d.State is not (DomainState.Paused or DomainState.Shutdown or DomainState.Crashed))
        {
            throw new DomainRequestException(XenErrno.EBUSY, $"domain {d.Id} is {d.State}: pause it before saving");
        }

        DeviceModelRecord? deviceModel = null;
        if (s.DeviceModelState is { } state)
        {
            if (!d.Spec.Hvm)
            {
                throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id} is PV: it has no device model state");
            }

            try
            {
                deviceModel = DeviceModelRecord.Decode(state);
            }
            catch (Nerdbank.MessagePack.MessagePackSerializationException e)
            {
                throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: its device model state does not decode: {e.Message}");
            }
        }

        // Written beside the target and renamed into place: a save that fails midway never leaves a
        // truncated image under the name the toolstack asked for.
        var partial = s.Path + ".partial";
        try
        {
            using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                DomainSave.Write(hv, d, file, s.Config ?? [], deviceModel);
                file.Flush(flushToDisk: true);
            }

            File.Move(partial, s.Path, overwrite: true);
        }
        catch (IOException e)
        {
            File.Delete(partial);
            throw new DomainRequestException(XenErrno.EIO, $"domain {d.Id}: saving to {s.Path}: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            File.Delete(partial);
            throw new DomainRequestException(XenErrno.ENOSYS, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DomainRequestException(XenErrno.EACCES, $"domain {d.Id}: saving to {s.Path}: {e.Message}");
        }

        hv.Log.WriteKernel($"saved domain {d.Id} '{d.Name}' to {s.Path}");
        return new OkReply();
    }

    public static DomainCreated Restore(Hypervisor hv, RestoreDomain r)
    {
        Disagg.DomainImage.DomainImage image;
        try
        {
            using var file = new FileStream(r.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            image = DomainRestore.Read(file, hv);
        }
        catch (DomainImageException e)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"restore from {r.Path}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DomainRequestException(e is FileNotFoundException or DirectoryNotFoundException ? XenErrno.ENOENT : XenErrno.EIO, $"restore from {r.Path}: {e.Message}");
        }

        var name = string.IsNullOrEmpty(r.Name) ? image.Domain.Name : r.Name;
        if (hv.Domains.Snapshot().Any(d => d.Name == name))
        {
            throw new DomainRequestException(XenErrno.EEXIST, $"domain '{name}' already exists");
        }

        try
        {
            var d = DomainRestore.Rebuild(hv, image, name, r.ConsoleBackendDomain, r.XenstoreDomain);
            return new DomainCreated(d.Id, d.ConsolePort, d.XenstorePort, PvLayout.SpecialFrame(PvLayout.ConsolePage), PvLayout.SpecialFrame(PvLayout.XenstorePage));
        }
        catch (DomainImageException e)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"restore from {r.Path}: {e.Message}");
        }
        catch (MemoryBudgetExceededException e)
        {
            throw new DomainRequestException(XenErrno.ENOMEM, $"restore from {r.Path}: {e.Message}");
        }
    }
}
