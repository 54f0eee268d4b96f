// disagg-netback: the host's software switch, a restartable driver domain serving every vif (docs/NETBACK.md).
using Disagg.Netback.Hosting;
using Microsoft.Extensions.Logging;

if (Environment.GetEnvironmentVariable("DISAGG_DIE_WITH_PARENT") == "1") Disagg.Interop.ProcessSignals.DieWithParent(); // started by the host daemon: go when it goes

if (!NetbackOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(NetbackOptions.Usage);
    return 2;
}

using var loggers = LoggerFactory.Create(b => b
    .SetMinimumLevel(LogLevel.Information)
    .AddSimpleConsole(o => o.SingleLine = true)
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
return await NetbackService.RunAsync(options!, loggers);
