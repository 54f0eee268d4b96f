using System.Diagnostics;
using System.Text.Json;
using Disagg.Control.Messages;
using Disagg.DomainImage;
using Disagg.Toolstack.Cli;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Daemon.Consoles;
using Disagg.Toolstack.Daemon.DeviceModels;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using Disagg.Toolstack.Xenstore;
using Disagg.Xenbus;
using OkReply = Disagg.Control.Messages.OkReply;

namespace Disagg.Toolstack.Daemon.Save;

/// <summary>
/// `save` and `restore` (docs/SAVE-RESTORE.md): a PV guest is suspended through xenstore, its toolstack state
/// (config, xenstore subtree) goes into the image's header, the kernel writes the image; afterwards the domain
/// is destroyed, or resumed in place (-c) or resumed paused (-p). A restore checks the image's header here,
/// has the kernel rebuild the domain, then gives it what a create would (console, xenstore entries with the
/// saved subtree re-homed, its devices' directories, so backends attach afresh) and unpauses it unless -p.
/// Each holds the registry's gate while it changes domains, but not while a guest takes its time to suspend.
/// </summary>
internal sealed class GuestSaves(GuestRegistry guests, KernelLink kernel, ConsoleHub consoles, XenstoreDomains xenstore, ServiceDomains services, GuestSuspend suspend, GuestStates states, DeviceModelDomains deviceModels, DaemonLog log)
{
    /// <summary>How long a restore waits for a writable disk's lock (a blkback flushing it after a save lets go well within it).</summary>
    private static readonly TimeSpan DiskReleasePatience = TimeSpan.FromSeconds(10);

    public async Task<SavedReply> SaveAsync(SaveRequest r, Func<SaveProgress, Task> progress, CancellationToken cancel)
    {
        if (r.Domain is "0" or "Domain-0")
        {
            throw new ToolstackException("cannot save privileged domain 0");
        }

        var path = CheckTarget(r.Path);
        var clock = Stopwatch.StartNew();
        var (id, guest) = await guests.ResolveAsync(r.Domain, cancel).ConfigureAwait(false);
        if (guest is null)
        {
            throw new DomainOperationException(r.Domain, "was not created by this toolstack: there is no config to save with it");
        }

        var list = await kernel.Client.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false);
        var summary = list.Domains.FirstOrDefault(d => d.DomainId == id) ?? throw new DomainOperationException(guest.Name, "no such domain");
        var memoryBytes = summary.MemoryKiB * 1024;
        var wasPaused = summary.State.Contains('p', StringComparison.Ordinal);
        var hvm = guest.Config.Type == DomainType.Hvm;

        await progress(new SaveProgress("suspending", 0, memoryBytes)).ConfigureAwait(false);
        if (wasPaused && !hvm)
        {
            await Command(id, DomainOperation.Unpause, cancel).ConfigureAwait(false); // only a running guest can answer
        }

        TimeSpan suspended;
        if (hvm)
        {
            // No cooperation: the whole machine is captured paused, its device model's state with it.
            await Command(id, DomainOperation.Pause, cancel).ConfigureAwait(false);
            suspended = clock.Elapsed;
        }
        else
        {
            suspended = await suspend.SuspendAsync(id, guest.Name, TimeSpan.FromSeconds(Math.Max(1, r.TimeoutSeconds)), cancel).ConfigureAwait(false);
        }

        await guests.EnterAsync(cancel).ConfigureAwait(false);
        try
        {
            try
            {
                var state = await states.CaptureAsync(guest, id, cancel).ConfigureAwait(false);
                var deviceModel = hvm ? await deviceModels.FreezeAsync(guest, id, cancel).ConfigureAwait(false) : null;
                var write = guests.CallAsync<OkReply>(guest.Name, new SaveDomain(id, path, state.Encode(), deviceModel?.Encode()), cancel);
                await ImageProgress.FollowAsync(path + ".partial", write, bytes => progress(new SaveProgress("writing", bytes, memoryBytes))).ConfigureAwait(false);
            }
            catch
            {
                // The image is not there: the guest goes on as if nothing happened (its suspend returns "cancelled").
                await BackAsync(id, hvm, wasPaused).ConfigureAwait(false);
                throw;
            }

            var bytes = new FileInfo(path).Length;
            if (r.After == SaveAfter.Destroy)
            {
                await consoles.DrainOnceAsync(cancel).ConfigureAwait(false);
                guests.Remove(id);
                await consoles.UnbindAsync(id).ConfigureAwait(false);
                await xenstore.RemoveAsync(id, guest.Name, guest.Uuid, CancellationToken.None).ConfigureAwait(false);
                consoles.Forget(guest.Name, $"saved to {path}");
                if (hvm)
                {
                    // Let it finish (SIGTERM needs a running process) and close its disks before its domain goes.
                    deviceModels.Thaw(guest);
                    await deviceModels.StopAsync(guest).ConfigureAwait(false);
                }

                await Command(id, DomainOperation.Destroy, CancellationToken.None).ConfigureAwait(false);
                guest.Settled.TrySetResult();
            }
            else
            {
                await BackAsync(id, hvm, wasPaused || r.After == SaveAfter.Paused).ConfigureAwait(false);
            }

            log.DomainSaved(id, guest.Name, path, bytes, clock.ElapsedMilliseconds, r.After.ToString().ToLowerInvariant());
            return new SavedReply(id, guest.Name, path, bytes, memoryBytes, clock.ElapsedMilliseconds, (long)suspended.TotalMilliseconds, r.After);
        }
        finally
        {
            guests.Leave();
        }

        async Task BackAsync(int domid, bool wasHvm, bool paused)
        {
            if (wasHvm)
            {
                deviceModels.Thaw(guest);
                if (!paused)
                {
                    await Command(domid, DomainOperation.Unpause, CancellationToken.None).ConfigureAwait(false);
                }

                return;
            }

            await suspend.ResumeAsync(domid, paused, CancellationToken.None).ConfigureAwait(false);

            // Its suspend completed Settled (a shutdown with "preserve"); running again, it has not settled.
            guest.Settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public async Task<RestoredReply> RestoreAsync(RestoreRequest r, Func<SaveProgress, Task> progress, CancellationToken cancel)
    {
        var path = Path.GetFullPath(r.Path);
        var clock = Stopwatch.StartNew();
        var (state, config) = ReadHeader(path);
        var name = string.IsNullOrEmpty(r.Name) ? config.Name : r.Name;
        config = config with { Name = name };
        var hvm = config.Type == DomainType.Hvm;
        if (hvm && QemuDmArguments.Unsupported(config, services.XenstoreDomain != 0, v => services.BackendDomain("vif", v.Backend)) is { } unsupported)
        {
            throw new DomainOperationException(name, unsupported);
        }

        var deviceModel = hvm ? ReadDeviceModel(path) : null;
        var size = new FileInfo(path).Length;
        await progress(new SaveProgress("reading", 0, size)).ConfigureAwait(false);

        // Beside a `save -c` original that still writes its disk: refused, naming the writer, before anything is
        // created (the disk check's read-only open would only say Locked). A blkback still flushing the disk of a
        // guest just saved lets go within the patience.
        DiskWriter.RequireNoOtherGuest(name, config.Disks, guests.Snapshot());
        await DiskWriter.RequireUnlockedAsync(name, config.Disks, DiskReleasePatience, cancel).ConfigureAwait(false);
        DiskImageCheck.Require(name, config.Disks); // after the lock: its read-only open shares the lock blkback holds exclusively

        await guests.EnterAsync(cancel).ConfigureAwait(false);
        try
        {
            var existing = guests.Snapshot();
            if (existing.Any(g => g.Name == name))
            {
                throw new DomainOperationException(name, "already exists (restore --name NAME gives the restored domain another)");
            }

            DiskWriter.RequireNoOtherGuest(name, config.Disks, existing);

            var created = await guests.CallAsync<DomainCreated>(name, new RestoreDomain(path, name, 0, services.XenstoreDomain), cancel).ConfigureAwait(false);
            await progress(new SaveProgress("devices", size, size)).ConfigureAwait(false);
            var guest = new Guest
            {
                Name = name,
                Config = config,
                ConfigPath = state.ConfigPath,
                Weight = config.Weight,
                Cap = config.Cap,

                // A uuid names one domain (/vm/UUID): a restore beside the still-running original (save -c) gets its own.
                Uuid = existing.Any(g => g.Uuid == state.Uuid) || string.IsNullOrEmpty(state.Uuid) ? Guid.NewGuid().ToString() : state.Uuid,
                Id = created.DomainId,
                CreatedAtMs = Environment.TickCount64,
            };
            try
            {
                consoles.Bind(created.DomainId, name);
                if (hvm)
                {
                    // Its device model serves before it runs: named (SetDeviceModel), its state files in place.
                    await deviceModels.StartAsync(guest, created.DomainId, cancel, deviceModel).ConfigureAwait(false);
                }
                else
                {
                    await consoles.AttachRingAsync(created.DomainId, name, created.ConsolePort, cancel).ConfigureAwait(false);
                }

                await xenstore.CreateAsync(created.DomainId, guest, created.ConsolePort, created.ConsoleFrame, created.XenstorePort, created.XenstoreFrame, cancel, announce: true).ConfigureAwait(false);
                await states.RehomeXenstoreAsync(state, created.DomainId, name, cancel).ConfigureAwait(false);
                guests.Add(guest);
                if (!r.Paused)
                {
                    await Command(created.DomainId, DomainOperation.Unpause, cancel).ConfigureAwait(false);
                }
            }
            catch
            {
                guests.Remove(created.DomainId);
                await deviceModels.StopAsync(guest).ConfigureAwait(false);
                await consoles.UnbindAsync(created.DomainId).ConfigureAwait(false);
                await xenstore.RemoveAsync(created.DomainId, name, guest.Uuid, CancellationToken.None).ConfigureAwait(false);
                await Command(created.DomainId, DomainOperation.Destroy, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            log.DomainRestored(created.DomainId, name, path, clock.ElapsedMilliseconds);
            return new RestoredReply(created.DomainId, name, path, size, clock.ElapsedMilliseconds, r.Paused);
        }
        finally
        {
            guests.Leave();
        }
    }

    /// <summary>The image's header and the toolstack state in it, checked before anything is created.</summary>
    public static (ToolstackState State, DomainConfig Config) ReadHeader(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);
            var header = DomainImageReader.ReadHeader(file, new ImageHost { WidestGuest = ImageIsa.Rv64 });
            var state = ToolstackState.Decode(header.Config);
            return (state, GuestStates.ConfigOf(state));
        }
        catch (DomainImageException e)
        {
            throw new ToolstackException($"{path}: {e.Message}");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ToolstackException($"image {path} does not exist");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ToolstackException($"cannot read image {path}: {e.Message}");
        }
    }

    /// <summary>
    /// An HVM image's device model state, every record checked on the way (nothing is created from an image whose
    /// device model record is garbled or foreign; the refusal names the record).
    /// </summary>
    internal static DeviceModelRecord? ReadDeviceModel(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var (record, index) = DomainImageReader.ReadDeviceModel(file);
            if (record is not null)
            {
                DeviceModelStateFiles.Check(record, index);
            }

            return record;
        }
        catch (DomainImageException e)
        {
            throw new ToolstackException($"{path}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ToolstackException($"cannot read image {path}: {e.Message}");
        }
    }

    private static string CheckTarget(string file)
    {
        var path = Path.GetFullPath(file);
        if (Directory.Exists(path))
        {
            throw new ToolstackException($"{path} is a directory; save writes a file");
        }

        var dir = Path.GetDirectoryName(path);
        return dir is not null && !Directory.Exists(dir) ? throw new ToolstackException($"directory {dir} does not exist") : path;
    }

    private Task Command(int domid, DomainOperation op, CancellationToken cancel) =>
        kernel.Client.CallAsync<OkReply>(new DomainCommand(domid, op), cancel);
}
