// disagg-qemu-dm: one HVM domain's device model, a restartable service domain answering the kernel's ioreq page.
using Disagg.QemuDm.Hosting;
using Microsoft.Extensions.Logging;

if (Environment.GetEnvironmentVariable("DISAGG_DIE_WITH_PARENT") == "1") Disagg.Interop.ProcessSignals.DieWithParent(); // started by the host daemon: go when it goes

if (!QemuDmOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(QemuDmOptions.Usage);
    return 2;
}

using var loggers = LoggerFactory.Create(b => b
    .SetMinimumLevel(LogLevel.Information)
    .AddSimpleConsole(o => o.SingleLine = true)
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
return await QemuDmHost.RunAsync(options!, loggers);
