using System.Buffers.Binary;
using System.Diagnostics;
using Disagg.Bench;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.TestSupport;

// bench/evtchn: one event from a service process to a guest and one back, through the real kernel
// process (the service's send goes over its control socket; the guest's comes back through the shared
// pending bitmap and the doorbell), next to the floor: an eventfd ping-pong between two threads.
var quick = args.Contains("--quick");
var rounds = quick ? 2_000 : 20_000;

var floor = WakeUpFloor.EventfdPingPong(rounds);
Report("eventfd-pingpong", floor, "us");

await using var kernel = await KernelProcess.StartAsync(pcpus: 1);
{
    await using var control = await KernelClient.ConnectAsync(kernel.Socket, kernel.Token);
    var token = (await control.CallAsync<ServiceRegistered>(new RegisterService("bench", 1))).Token;
    var created = await control.CallAsync<DomainCreated>(new CreateDomain("pong", GuestIsa.Rv64, 1, 1, 4096, 4096, 256, 0, [ulong.MaxValue], 0, 1));
    await control.CallAsync<OkReply>(new LoadKernel(created.DomainId, await File.ReadAllBytesAsync(Path.Combine(RepoPaths.Guests, "rv64/evtchn-pong.elf")), null, ""));
    await using var service = await ServiceChannel.OpenAsync(kernel.Socket, token);
    await using var page = await service.MapGrantAsync(created.DomainId, 1);
    var port = await service.BindInterdomainAsync(created.DomainId, created.XenstorePort);
    var ports = new int[16];
    service.TakePendingEvents(ports);
    await control.CallAsync<OkReply>(new DomainCommand(created.DomainId, DomainOperation.Unpause));

    async Task<double[]> Measure(bool socket)
    {
        var samples = new double[rounds];
        for (var i = 0; i < rounds; i++)
        {
            var t = Stopwatch.GetTimestamp();
            if (socket)
            {
                await service.NotifyAsync(port);
            }
            else if (!service.Notify(port))
            {
                throw new InvalidOperationException("send ring full");
            }

            while (true)
            {
                var n = service.TakePendingEvents(ports);
                if (ports.AsSpan(0, n).Contains(port))
                {
                    break;
                }

                service.WaitForEvents(TimeSpan.FromSeconds(5));
            }

            samples[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
        }

        Array.Sort(samples);
        return samples;
    }

    var ring = await Measure(socket: false);
    var viaSocket = await Measure(socket: true);
    var answered = BinaryPrimitives.ReadUInt32LittleEndian(page.ReadOnlySpan[4..]);
    CopyThroughput(service, created.DomainId, quick); // overwrites the shared page: after the count is read
    BinaryPrimitives.WriteUInt32LittleEndian(page.Span, 0xFFFFFFFF);
    if (answered < 2 * rounds)
    {
        Console.Error.WriteLine($"bench evtchn: the guest answered {answered} of {2 * rounds} events");
        return 1;
    }

    Report("roundtrip-guest-service", ring[rounds / 2], "us", ring[rounds / 2] / floor, "eventfd-pingpong");
    Report("roundtrip-guest-service-p99", ring[(int)(rounds * 0.99)], "us");
    Report("roundtrip-guest-service-socket-send", viaSocket[rounds / 2], "us", viaSocket[rounds / 2] / floor, "eventfd-pingpong");
    return 0;
}

// Grant copy through the shared copy ring: 4 KiB from the service's buffer into the guest's granted page,
// batches of 64, next to a plain memcpy of the same bytes in this process.
static unsafe void CopyThroughput(ServiceChannel service, int guest, bool quick)
{
    const int Batch = 64;
    var batches = quick ? 2_000 : 20_000;
    var ops = new Disagg.Abi.Grants.GrantCopy[Batch];
    for (var i = 0; i < Batch; i++)
    {
        ops[i] = new Disagg.Abi.Grants.GrantCopy
        {
            Source = new Disagg.Abi.Grants.GrantCopyPtr { RefOrFrame = (ulong)(i % service.BufferPages), DomId = Disagg.Abi.Events.DomainIds.Self },
            Dest = new Disagg.Abi.Grants.GrantCopyPtr { RefOrFrame = 1, DomId = (ushort)guest },
            Len = 4096,
            Flags = Disagg.Abi.Grants.GrantCopy.DestGref,
        };
    }

    var t = Stopwatch.GetTimestamp();
    for (var b = 0; b < batches; b++)
    {
        if (!service.TrySubmitCopies(ops, out var end) || !service.WaitForCopies(end, TimeSpan.FromSeconds(10)) || service.CopyStatus(end - 1) != 0)
        {
            throw new InvalidOperationException($"copy batch {b} failed");
        }
    }

    var seconds = Stopwatch.GetElapsedTime(t).TotalSeconds;
    var ringGbs = (double)batches * Batch * 4096 / seconds / 1e9;
    var src = new byte[4096 * 64];
    var dst = new byte[4096];
    t = Stopwatch.GetTimestamp();
    for (var b = 0; b < batches; b++)
    {
        for (var i = 0; i < Batch; i++)
        {
            src.AsSpan(i * 4096, 4096).CopyTo(dst);
        }
    }

    var memcpyGbs = (double)batches * Batch * 4096 / Stopwatch.GetElapsedTime(t).TotalSeconds / 1e9;
    Report("memcpy-4k", memcpyGbs, "GB/s");
    Report("copy-ring-4k", ringGbs, "GB/s", ringGbs / memcpyGbs, "memcpy-4k");
}

static void Report(string figure, double value, string unit, double? ratio = null, string? versus = null) =>
    new BenchReport("evtchn").Figure(figure, value, unit, ratio, versus);

