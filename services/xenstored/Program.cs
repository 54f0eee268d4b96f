// disagg-xenstored: the configuration store, a restartable service domain speaking Xen's xs_wire.
using Disagg.Service.Hosting;
using Disagg.Xenstored.Hosting;

if (Environment.GetEnvironmentVariable("DISAGG_DIE_WITH_PARENT") == "1") Disagg.Interop.ProcessSignals.DieWithParent(); // started by the host daemon: go when it goes

if (!XenstoredOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(XenstoredOptions.Usage);
    return 2;
}

var builder = ServiceHost.CreateBuilder("disagg-xenstored");
// First: a hosted fault socket listens before the service prints "ready" (only on a --fault-injection host).
ServiceHost.AddChannelFaults(builder, Disagg.Control.Messages.ChannelFaultKind.JournalTear);
builder.Services.AddXenstored(options!);
return ServiceHost.Run<XenstoredServer>(builder);
