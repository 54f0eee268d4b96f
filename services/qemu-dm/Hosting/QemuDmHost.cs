using System.Runtime.InteropServices;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.DiskImage;
using Disagg.Interop;
using Disagg.QemuDm.Console;
using Disagg.QemuDm.Devices;
using Disagg.QemuDm.Ioreq;
using Disagg.QemuDm.Net;
using Disagg.QemuDm.Virtio;
using Disagg.Service;
using Disagg.Virtio.State;
using Microsoft.Extensions.Logging;

namespace Disagg.QemuDm.Hosting;

/// <summary>
/// The process: lock the domain's state (one qemu-dm per domain), read the device state a predecessor left,
/// open the kernel channel, map the domain's ioreq page and bind its ports (binding makes them pending, so
/// requests a predecessor left READY or INPROCESS are served first), listen on the console socket, print
/// "ready domain=N vcpus=M", and serve until SIGTERM. The virtio-mmio slots (<see cref="VirtioSlots"/>) take
/// their predecessor's records back before the first request is served. Exit codes: 0 stopped, 2 usage,
/// 65 a state file that is not ours, 66 a disk image that cannot be opened, 69 kernel unreachable or not our
/// domain's device model, 73 another qemu-dm serves the domain, 75 the kernel connection or the loop failed
/// (the supervisor restarts us; the guest sees a pause).
/// </summary>
internal static class QemuDmHost
{
    /// <summary>How long the loop sleeps without events: the console's input is looked at this often when idle.</summary>
    private static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(10);

    public static async Task<int> RunAsync(QemuDmOptions options, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("qemu-dm");
        var environment = ServiceEnvironment.FromProcess();
        if (environment is null)
        {
            Log.CannotStart(log, "no kernel channel in the environment (DISAGG_KERNEL_SOCKET, DISAGG_SERVICE_TOKEN, DISAGG_DOMAIN_ID)");
            return 2;
        }

        Directory.CreateDirectory(options.StateDirectory);
        FileStream instance;
        try
        {
            instance = new FileStream(Path.Combine(options.StateDirectory, $"qemu-dm-{options.Domain}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            Log.CannotStart(log, $"another qemu-dm serves domain {options.Domain}: {e.Message}");
            return 73;
        }

        await using var lockFile = instance;
        var state = UartState.Load(options.StateFile, out var stateError);
        if (state is null)
        {
            Log.CannotStart(log, stateError!);
            return 65;
        }

        var resumed = File.Exists(options.StateFile);
        ServiceChannel channel;
        IoreqPage page;
        ulong ramBytes;
        var ports = new List<int>();
        try
        {
            // Page 0 of the copy buffer is the device model's own; each NIC's vif has its packet buffers and grant refs after it.
            var nicCount = options.Nics.Count;
            channel = await ServiceChannel.OpenAsync(environment.KernelSocket, environment.Token, ReservedPages + NicConnector.BufferPages(nicCount), NicConnector.GrantFrames(nicCount))
                .WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            var (mapped, fds) = await channel.Kernel.CallWithFdsAsync<IoreqPageMapped>(new MapIoreqPage(options.Domain)).ConfigureAwait(false);
            ramBytes = mapped.RamBytes;
            using (var fd = fds[0])
            {
                page = new IoreqPage(SharedMemorySegment.Map(fd, 1), mapped.Vcpus);
            }

            for (var v = 0; v < page.Vcpus; v++)
            {
                ports.Add(await channel.BindInterdomainAsync(options.Domain, page.EventPort(v)).ConfigureAwait(false));
            }

            await channel.Kernel.CallAsync<OkReply>(new Subscribe()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            Log.CannotStart(log, $"kernel at {environment.KernelSocket}, domain {options.Domain}: {e.Message}");
            return 69;
        }

        await using var ownedChannel = channel;
        using var ownedPage = page;
        using var console = new ConsoleSocket(options.ConsoleSocket);
        var platform = new KernelDevicePlatform(channel.Kernel, options.Domain);
        var kernelMemory = new KernelGuestMemory(platform, VirtioGuestRam.Base, ramBytes);
        using var ringPages = new GuestRingPages(platform, kernelMemory.IsRam);
        var uart = new Ns16550a(state, console, platform, options.StateFile);
        var nics = new List<(NicOption Option, NicPort Port)>();
        for (var i = 0; i < options.Nics.Count; i++)
        {
            nics.Add((options.Nics[i], new NicPort($"nic{i}", log)));
        }

        VirtioSlots slots;
        try
        {
            slots = new VirtioSlots(options.Devices, platform, new MappedGuestMemory(kernelMemory, ringPages, platform), options.StateDirectory, options.Domain, f => Log.VirtioFault(log, options.Domain, f.ToString()), [.. nics.Select(n => n.Port)]);
        }
        catch (DiskImageException e)
        {
            Log.CannotStart(log, e.Message);
            return 66;
        }

        using var ownedSlots = slots;
        foreach (var slot in slots.All)
        {
            slot.RingsChanged = () => ringPages.Sync(LiveQueues(slots));
        }

        var devices = new DeviceMap([uart, new SifiveTest(platform), .. slots.All]);
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });

        var exitCode = 0;
        var connector = new NicConnector(channel, options.XenstoreSocket ?? string.Empty, nics, ReservedPages, log);
        var connecting = nics.Count > 0 ? connector.RunAsync(stop.Token) : Task.CompletedTask;
        var domainGone = false;
        _ = WatchDomainAsync(channel.Kernel, options.Domain, () =>
        {
            Log.DomainGone(log, options.Domain);
            domainGone = true;
            stop.Cancel();
        }, () =>
        {
            exitCode = 75;
            stop.Cancel();
        });
        var loop = new Thread(() =>
        {
            try
            {
                uart.Resume();
                foreach (var slot in slots.All)
                {
                    if (slot.Resume() is { } completed)
                    {
                        Log.VirtioResumed(log, options.Domain, slot.Index, slot.Transport!.DeviceName, completed);
                    }
                }

                platform.FlushGuestWrites();
                for (var v = 0; v < page.Vcpus; v++)
                {
                    if (page.HasUntakenAnswer(v))
                    {
                        channel.NotifyAsync(ports[v]).GetAwaiter().GetResult(); // the notification our predecessor died before sending
                    }
                }

                Serve(channel, page, ports, devices, platform, uart, console, nics, stop.Token);
            }
            catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or IOException or TimeoutException or ObjectDisposedException)
            {
                Log.LoopFailed(log, options.Domain, e);
                exitCode = 75;
            }
            catch (VirtioStateException e)
            {
                Log.CannotStart(log, e.Message);
                exitCode = 65;
            }
        })
        { Name = $"qemu-dm-{options.Domain}", IsBackground = true };
        Log.Serving(log, options.Domain, page.Vcpus, string.Join(',', ports), resumed ? "resumed" : "fresh", options.ConsoleSocket);
        foreach (var slot in slots.All)
        {
            if (slot.Transport is { } t)
            {
                Log.VirtioSlot(log, options.Domain, slot.Index, slot.Base, slot.Irq, t.DeviceName);
            }
        }

        System.Console.Out.WriteLine($"ready domain={options.Domain} vcpus={page.Vcpus}");
        System.Console.Out.Flush();
        loop.Start();
        await Task.Run(loop.Join).ConfigureAwait(false);
        Log.GuestMemory(log, options.Domain, platform.GuestMemoryCopies, platform.GuestMemoryRoundTrips, platform.MappedCopies, ringPages.Count);
        await connecting.ConfigureAwait(false);
        if (domainGone)
        {
            await connector.RemoveAsync().ConfigureAwait(false);
        }

        return exitCode;
    }

    /// <summary>Every queue of every plugged slot (queue set-up time only: it allocates).</summary>
    private static List<Disagg.Virtio.Queue.Virtqueue> LiveQueues(VirtioSlots slots)
    {
        var queues = new List<Disagg.Virtio.Queue.Virtqueue>();
        foreach (var slot in slots.All)
        {
            if (slot.Transport is { } t)
            {
                for (var q = 0; q < t.QueueCount; q++)
                {
                    queues.Add(t.Queue(q));
                }
            }
        }

        return queues;
    }

    /// <summary>Copy-buffer pages before the NICs' (the device model's own page).</summary>
    private const int ReservedPages = 1;

    /// <summary>ring.h's final check on every NIC's vif before the loop sleeps (false: netback will send an event).</summary>
    private static bool NicsHaveWork(List<(NicOption Option, NicPort Port)> nics)
    {
        var work = false;
        foreach (var (_, nic) in nics)
        {
            work |= nic.HasWork();
        }

        return work;
    }

    /// <summary>Our domain destroyed: nothing left to serve. The kernel gone: exit for the supervisor.</summary>
    private static async Task WatchDomainAsync(KernelClient kernel, int domain, Action gone, Action lost)
    {
        try
        {
            await foreach (var e in kernel.Events.ReadAllAsync().ConfigureAwait(false))
            {
                if (e.DomainId == domain && e.State == "d")
                {
                    gone();
                    return;
                }
            }
        }
        catch (KernelConnectionLostException)
        {
        }

        lost();
    }

    /// <summary>
    /// The one ioreq thread: take the pending events (their bits only say "look"), serve every slot with a
    /// request, answer and notify each on its vCPU's port (the guest-memory writes the access made are sent
    /// first), move typed bytes into the UART, send its output.
    /// </summary>
    private static void Serve(ServiceChannel channel, IoreqPage page, List<int> ports, DeviceMap devices, KernelDevicePlatform platform, Ns16550a uart, ConsoleSocket console, List<(NicOption Option, NicPort Port)> nics, CancellationToken stop)
    {
        Span<int> pending = stackalloc int[64];
        while (!stop.IsCancellationRequested)
        {
            while (channel.TakePendingEvents(pending) == pending.Length)
            {
            }

            var served = false;
            for (var v = 0; v < page.Vcpus; v++)
            {
                if (!page.TryTake(v, out var address, out var size, out var read, out var data))
                {
                    continue;
                }

                var value = 0UL;
                if (read)
                {
                    value = devices.Read(address, size);
                }
                else
                {
                    devices.Write(address, size, data);
                }

                platform.FlushGuestWrites(); // what the access did to guest memory is there before the vCPU goes on
                page.Answer(v, size, read, value);
                if (!channel.Notify(ports[v]))
                {
                    channel.NotifyAsync(ports[v]).GetAwaiter().GetResult();
                }

                served = true;
            }

            foreach (var (_, nic) in nics)
            {
                served |= nic.Pump();
            }

            uart.PollInput();
            console.Flush();
            if (!served && !console.InputPending && !NicsHaveWork(nics))
            {
                channel.WaitForEvents(IdleWait);
            }
        }
    }
}
