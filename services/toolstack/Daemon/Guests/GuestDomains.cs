using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Daemon.Consoles;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using Disagg.Toolstack.Xenstore;
using Microsoft.Extensions.Hosting;
using OkReply = Disagg.Control.Messages.OkReply;

namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>
/// The guests' life cycle: create, pause, shutdown, reboot, destroy, and what the kernel's domain
/// events ask for (on_poweroff, on_reboot, on_crash). Each change holds the registry's gate. As a
/// hosted service it follows the kernel's events while the host is up, and when the host goes
/// down it stops every guest first, before the services and the kernel they need.
/// </summary>
internal sealed class GuestDomains(GuestRegistry guests, KernelLink kernel, ConsoleHub consoles, XenstoreDomains xenstore, ServiceDomains services, DeviceModels.DeviceModelDomains deviceModels, HostConfig config, DaemonLog log) : IHostedService
{
    /// <summary>More automatic restarts than this within RestartWindowMs and the guest is destroyed, not restarted again.</summary>
    private const int MaxRestartsInWindow = 10;
    private const long RestartWindowMs = 10_000;

    private readonly CancellationTokenSource _stop = new();
    private Task _events = Task.CompletedTask;
    private bool _goingDown;

    public Task StartAsync(CancellationToken cancel)
    {
        _events = FollowEventsAsync(_stop.Token);
        _ = WatchKernelAsync(); // completes only if the kernel dies while the host is up
        return Task.CompletedTask;
    }

    /// <summary>Guests first: each is asked to power off, given the host's shutdown timeout, then destroyed.</summary>
    public async Task StopAsync(CancellationToken cancel)
    {
        if (kernel.IsServing)
        {
            await log.StepAsync(() => ShutdownAllAsync(TimeSpan.FromSeconds(config.ShutdownTimeoutSeconds))).ConfigureAwait(false);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _events.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async Task<CreatedReply> CreateAsync(string configPath, bool paused, IReadOnlyList<string> overrides, CancellationToken cancel)
    {
        IReadOnlyList<string> warnings;
        DomainConfig config;
        if (Directory.Exists(configPath))
        {
            throw new ToolstackException($"config {configPath} is a directory, not a config file");
        }

        try
        {
            config = DomainConfigReader.Read(configPath, overrides, out warnings);
        }
        catch (ConfigException e)
        {
            throw new ToolstackException(e.Message);
        }
        catch (IOException e)
        {
            throw new ToolstackException($"cannot read config {configPath}: {e.Message}");
        }

        // Before anything exists: a refused disk leaves no domain, console or xenstore entry behind.
        DiskImageCheck.Require(config.Name, config.Disks);
        RequireBackends(config);
        if (config.Type == DomainType.Hvm && DeviceModels.QemuDmArguments.Unsupported(config, services.XenstoreDomain != 0, v => services.BackendDomain("vif", v.Backend)) is { } unsupported)
        {
            throw new DomainOperationException(config.Name, unsupported);
        }

        await guests.EnterAsync(cancel).ConfigureAwait(false);
        try
        {
            if (_goingDown)
            {
                throw new DomainOperationException(config.Name, "the host is going down");
            }

            var guest = new Guest { Name = config.Name, Config = config, ConfigPath = configPath, Weight = config.Weight, Cap = config.Cap, Uuid = config.Uuid ?? Guid.NewGuid().ToString() };
            await BootAsync(guest, paused, cancel).ConfigureAwait(false);
            log.DomainCreated(guest.Id, guest.Name, configPath);
            return new CreatedReply(guest.Id, guest.Name, warnings);
        }
        finally
        {
            guests.Leave();
        }
    }

    /// <summary>Every backend= a device names is a driver domain of its kind on this host (else create refuses, before anything exists).</summary>
    private void RequireBackends(DomainConfig config)
    {
        try
        {
            foreach (var vif in config.Vifs.Where(v => v.Backend is not null))
            {
                services.BackendDomain("vif", vif.Backend);
            }

            foreach (var disk in config.Disks.Where(d => d.Backend is not null))
            {
                services.BackendDomain("vbd", disk.Backend);
            }
        }
        catch (ToolstackException e)
        {
            throw new DomainOperationException(config.Name, e.Message);
        }
    }

    public async Task<string> ActAsync(string domain, DomainAction action, bool wait, CancellationToken cancel)
    {
        if (domain is "0" or "Domain-0")
        {
            // xl's refusal, word for word: domain 0 is this control domain, not a guest of the kernel.
            throw new ToolstackException($"cannot {action.ToString().ToLowerInvariant()} privileged domain 0");
        }

        Guest? guest;
        int id;
        Task settled;
        await guests.EnterAsync(cancel).ConfigureAwait(false);
        try
        {
            (id, guest) = await guests.ResolveAsync(domain, cancel).ConfigureAwait(false);
            settled = guest?.Settled.Task ?? Task.CompletedTask;
            var name = guest?.Name ?? domain;
            var command = action switch
            {
                DomainAction.Pause => new DomainCommand(id, DomainOperation.Pause),
                DomainAction.Unpause => new DomainCommand(id, DomainOperation.Unpause),
                DomainAction.Shutdown => new DomainCommand(id, DomainOperation.Shutdown, (int)ShutdownReason.Poweroff),
                DomainAction.Reboot => new DomainCommand(id, DomainOperation.Shutdown, (int)ShutdownReason.Reboot),
                _ => new DomainCommand(id, DomainOperation.Destroy),
            };
            if (action == DomainAction.Destroy && guest is not null)
            {
                await consoles.DrainOnceAsync(cancel).ConfigureAwait(false);
                await ForgetAsync(guest, "destroyed").ConfigureAwait(false);
            }

            await guests.CallAsync<OkReply>(name, command, cancel).ConfigureAwait(false);
        }
        finally
        {
            guests.Leave();
        }

        if (wait && action is DomainAction.Shutdown or DomainAction.Reboot)
        {
            try
            {
                await settled.WaitAsync(TimeSpan.FromSeconds(60), cancel).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new DomainOperationException(guest?.Name ?? domain, "did not shut down within 60 s");
            }
        }

        return $"domain {id}: {action.ToString().ToLowerInvariant()}";
    }

    /// <summary>A kernel DomainEvent: a shutdown or crash is acted on as the guest's config says; a destruction is forgotten.</summary>
    private async Task OnDomainEventAsync(DomainEvent e, CancellationToken cancel)
    {
        if (e.State is not ("s" or "c" or "d"))
        {
            return;
        }

        await guests.EnterAsync(cancel).ConfigureAwait(false);
        try
        {
            var guest = guests.Find(e.DomainId);
            if (guest is null)
            {
                return; // destroyed by a verb, or not ours
            }

            if (e.State == "d")
            {
                await ForgetAsync(guest, "destroyed", domainGone: true).ConfigureAwait(false);
                return;
            }

            var reason = e.State == "c" ? ShutdownReason.Crash : (ShutdownReason)e.ShutdownReason;
            if (e.Detail.Length > 0)
            {
                log.DomainProblem(guest.Name, e.Detail); // the kernel crashed it: say why (a device model's garbage or silence)
            }

            var action = reason switch
            {
                ShutdownReason.Poweroff => guest.Config.OnPoweroff,
                ShutdownReason.Reboot => guest.Config.OnReboot,
                ShutdownReason.Crash or ShutdownReason.Watchdog => guest.Config.OnCrash,
                _ => LifecycleAction.Preserve, // suspend, soft reset: for save/restore, later
            };
            if (_goingDown)
            {
                action = LifecycleAction.Destroy;
            }

            await ApplyAsync(guest, reason, action, cancel).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KernelRequestException or DomainOperationException or KernelConnectionLostException)
        {
            log.DomainProblem(e.DomainId.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
        }
        finally
        {
            guests.Leave();
        }
    }

    /// <summary>
    /// `host down`: every guest is asked to power off, given the timeout, then destroyed. The
    /// remote shutdown takes effect at once today; once guests run the xenstore control/shutdown
    /// protocol, this is where a guest gets time to stop cleanly.
    /// </summary>
    private async Task ShutdownAllAsync(TimeSpan timeout)
    {
        Guest[] all;
        await guests.EnterAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _goingDown = true;
            all = guests.Snapshot();
            foreach (var g in all)
            {
                await deviceModels.StopAsync(g).ConfigureAwait(false); // before its domain goes, or the supervisor would start another
            }

            foreach (var g in all)
            {
                await kernel.Client.RequestAsync(new DomainCommand(g.Id, DomainOperation.Shutdown, (int)ShutdownReason.Poweroff)).ConfigureAwait(false);
            }
        }
        finally
        {
            guests.Leave();
        }

        try
        {
            await Task.WhenAll(all.Select(g => g.Settled.Task)).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // destroyed below
        }

        var list = await kernel.Client.CallAsync<DomainList>(new ListDomains()).ConfigureAwait(false);
        foreach (var d in list.Domains)
        {
            await consoles.UnbindAsync(d.DomainId).ConfigureAwait(false); // its ring is handed back while the domain exists
            if (!d.IsService)
            {
                await xenstore.RemoveAsync(d.DomainId, d.Name, uuid: null, CancellationToken.None).ConfigureAwait(false);
            }

            await kernel.Client.RequestAsync(new DomainCommand(d.DomainId, DomainOperation.Destroy)).ConfigureAwait(false);
        }
    }

    /// <summary>A kernel DomainEvent at a time, until the host goes down or the kernel dies.</summary>
    private async Task FollowEventsAsync(CancellationToken cancel)
    {
        try
        {
            await foreach (var e in kernel.Client.Events.ReadAllAsync(cancel).ConfigureAwait(false))
            {
                await OnDomainEventAsync(e, cancel).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or KernelConnectionLostException or ToolstackException)
        {
            // the host is going down, or the kernel died (WatchKernelAsync says so)
        }
    }

    /// <summary>The kernel died: every guest went with it.</summary>
    private async Task WatchKernelAsync()
    {
        var cause = await kernel.Died.ConfigureAwait(false);
        consoles.KernelDied();
        foreach (var g in guests.Clear())
        {
            consoles.Forget(g.Name, $"the kernel died ({cause})");
            g.Settled.TrySetResult();
        }
    }

    private async Task ApplyAsync(Guest guest, ShutdownReason reason, LifecycleAction action, CancellationToken cancel)
    {
        var what = reason.ToString().ToLowerInvariant();
        if (action is LifecycleAction.Restart or LifecycleAction.RenameRestart)
        {
            var now = Environment.TickCount64;
            guest.RecentRestartsMs.RemoveAll(t => now - t > RestartWindowMs);
            if (guest.RecentRestartsMs.Count >= MaxRestartsInWindow)
            {
                log.DomainProblem(guest.Name, $"restarted {MaxRestartsInWindow} times in {RestartWindowMs / 1000} s; destroyed instead");
                action = LifecycleAction.Destroy;
            }
            else
            {
                guest.RecentRestartsMs.Add(now);
            }
        }

        log.DomainLifecycle(guest.Id, guest.Name, what, action.ToString().ToLowerInvariant());
        await consoles.DrainOnceAsync(cancel).ConfigureAwait(false);
        switch (action)
        {
            case LifecycleAction.Preserve:
                guest.Settled.TrySetResult();
                return;
            case LifecycleAction.Destroy:
                await ForgetAsync(guest, $"{what}, destroyed (on_{what})").ConfigureAwait(false);
                await kernel.Client.CallAsync<OkReply>(new DomainCommand(guest.Id, DomainOperation.Destroy), cancel).ConfigureAwait(false);
                return;
            default:
                // restart (rename-restart too: the kernel keeps names unique, so the old domain cannot be kept beside the new one)
                var old = guest.Id;
                guests.Remove(old);

                await consoles.UnbindAsync(old).ConfigureAwait(false);
                await deviceModels.StopAsync(guest).ConfigureAwait(false);
                await xenstore.RemoveAsync(old, guest.Name, uuid: null, cancel).ConfigureAwait(false);
                await kernel.Client.CallAsync<OkReply>(new DomainCommand(old, DomainOperation.Destroy), cancel).ConfigureAwait(false);
                var settled = guest.Settled;
                guest.Settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                try
                {
                    await BootAsync(guest, paused: false, cancel).ConfigureAwait(false);
                }
                catch
                {
                    consoles.Forget(guest.Name, "could not be restarted");
                    throw;
                }
                finally
                {
                    settled.TrySetResult();
                }

                return;
        }
    }

    /// <summary>Creates the domain paused, loads its kernel, unpauses it unless asked not to. Caller holds the gate.</summary>
    private async Task BootAsync(Guest guest, bool paused, CancellationToken cancel)
    {
        var (create, image, ramdisk) = DomainBuilder.Build(guest.Config, guest.ConfigPath, kernel.Pcpus, services.XenstoreDomain);
        guest.Isa = create.Isa == GuestIsa.Rv32 ? "rv32" : "rv64";
        var created = await guests.CallAsync<DomainCreated>(guest.Name, create, cancel).ConfigureAwait(false);
        try
        {
            if (create.Hvm)
            {
                // Its device model serves before the kernel is loaded: SetDeviceModel puts the UART and the test device in the device tree.
                await deviceModels.StartAsync(guest, created.DomainId, cancel).ConfigureAwait(false);
            }

            await guests.CallAsync<OkReply>(guest.Name, new LoadKernel(created.DomainId, image, ramdisk, guest.Config.CommandLine), cancel).ConfigureAwait(false);
        }
        catch
        {
            await deviceModels.StopAsync(guest).ConfigureAwait(false);
            await consoles.UnbindAsync(created.DomainId).ConfigureAwait(false);
            await kernel.Client.RequestAsync(new DomainCommand(created.DomainId, DomainOperation.Destroy), CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await AttachAsync(guest, created, paused, cancel).ConfigureAwait(false);
    }

    /// <summary>
    /// A domain the kernel built (from a config, or from a migration stream) becomes a guest of this daemon:
    /// its console, its xenstore directory, the registry; unpaused unless asked not to. A failure destroys the
    /// domain. Caller holds the gate.
    /// </summary>
    private async Task AttachAsync(Guest guest, DomainCreated created, bool paused, CancellationToken cancel, bool announce = false)
    {
        try
        {
            guest.Id = created.DomainId;
            guest.CreatedAtMs = Environment.TickCount64;
            consoles.Bind(created.DomainId, guest.Name);
            if (guest.DeviceModel is null)
            {
                await consoles.AttachRingAsync(created.DomainId, guest.Name, created.ConsolePort, cancel).ConfigureAwait(false);
            }
            await xenstore.CreateAsync(created.DomainId, guest, created.ConsolePort, created.ConsoleFrame, created.XenstorePort, created.XenstoreFrame, cancel, announce).ConfigureAwait(false);
            guests.Add(guest);

            if (!paused)
            {
                await guests.CallAsync<OkReply>(guest.Name, new DomainCommand(created.DomainId, DomainOperation.Unpause), cancel).ConfigureAwait(false);
            }
        }
        catch
        {
            guests.Remove(created.DomainId);

            await deviceModels.StopAsync(guest).ConfigureAwait(false);
            await consoles.UnbindAsync(created.DomainId).ConfigureAwait(false);
            await xenstore.RemoveAsync(created.DomainId, guest.Name, guest.Uuid, CancellationToken.None).ConfigureAwait(false);
            await kernel.Client.RequestAsync(new DomainCommand(created.DomainId, DomainOperation.Destroy), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// An incoming migration's domain (built paused by the kernel) joins this host's guests; unpaused unless
    /// <paramref name="paused"/>. Its vifs announce its MACs on this host's switch when they connect.
    /// </summary>
    public async Task AdoptAsync(Guest guest, DomainCreated created, bool paused, CancellationToken cancel)
    {
        await guests.EnterAsync(cancel).ConfigureAwait(false);
        try
        {
            if (_goingDown)
            {
                await kernel.Client.RequestAsync(new DomainCommand(created.DomainId, DomainOperation.Destroy), CancellationToken.None).ConfigureAwait(false);
                throw new DomainOperationException(guest.Name, "the host is going down");
            }

            await AttachAsync(guest, created, paused, cancel, announce: true).ConfigureAwait(false);
            log.DomainCreated(guest.Id, guest.Name, guest.ConfigPath);
        }
        finally
        {
            guests.Leave();
        }
    }

    private async Task ForgetAsync(Guest guest, string reason, bool domainGone = false)
    {
        guests.Remove(guest.Id);
        await deviceModels.StopAsync(guest).ConfigureAwait(false);

        await consoles.UnbindAsync(guest.Id, domainGone).ConfigureAwait(false);
        await xenstore.RemoveAsync(guest.Id, guest.Name, guest.Uuid, CancellationToken.None).ConfigureAwait(false);
        consoles.Forget(guest.Name, reason);
        guest.Settled.TrySetResult();
    }
}
