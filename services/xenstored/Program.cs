// disagg-xenstored: the configuration store, a restartable service domain speaking Xen's xs_wire.
using Disagg.Xenstored.Hosting;
using Microsoft.Extensions.Logging;

if (Environment.GetEnvironmentVariable("DISAGG_DIE_WITH_PARENT") == "1") Disagg.Interop.ProcessSignals.DieWithParent(); // started by the host daemon: go when it goes

if (!XenstoredOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(XenstoredOptions.Usage);
    return 2;
}

using var loggers = LoggerFactory.Create(b => b
    .SetMinimumLevel(LogLevel.Information)
    .AddSimpleConsole(o => o.SingleLine = true)
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
return XenstoredService.Run(options!, loggers);
