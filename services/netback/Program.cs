// disagg-netback: the host's software switch, a restartable driver domain serving every vif (docs/NETBACK.md).
using Disagg.Control.Messages;
using Disagg.Netback.Hosting;
using Disagg.Service.Hosting;

if (Environment.GetEnvironmentVariable("DISAGG_DIE_WITH_PARENT") == "1") Disagg.Interop.ProcessSignals.DieWithParent(); // started by the host daemon: go when it goes

if (!NetbackOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(NetbackOptions.Usage);
    return 2;
}

var builder = ServiceHost.CreateBuilder("disagg-netback");
// First: a hosted fault socket listens before the service prints "ready" (only on a --fault-injection host).
ServiceHost.AddChannelFaults(builder, ChannelFaultKind.RingDelay, ChannelFaultKind.RingDropNotify, ChannelFaultKind.RingSpuriousNotify, ChannelFaultKind.CopyError);
builder.Services.AddNetback(options!);
return ServiceHost.Run<NetbackService>(builder);
