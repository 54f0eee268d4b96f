// disagg-blkback: virtual block devices over image files, a restartable driver domain speaking blkif.
using Disagg.Blkback.Hosting;
using Disagg.Control.Messages;
using Disagg.Service.Hosting;

if (Environment.GetEnvironmentVariable("DISAGG_DIE_WITH_PARENT") == "1") Disagg.Interop.ProcessSignals.DieWithParent(); // started by the host daemon: go when it goes

if (!BlkbackOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(BlkbackOptions.Usage);
    return 2;
}

var builder = ServiceHost.CreateBuilder("disagg-blkback");
// First: a hosted fault socket listens before the service prints "ready" (only on a --fault-injection host).
ServiceHost.AddChannelFaults(builder, ChannelFaultKind.RingDelay, ChannelFaultKind.RingDropNotify, ChannelFaultKind.RingSpuriousNotify, ChannelFaultKind.CopyError, ChannelFaultKind.DiskEio);
builder.Services.AddBlkback(options!);
return ServiceHost.Run<BlkbackService>(builder);
