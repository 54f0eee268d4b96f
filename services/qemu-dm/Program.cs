// disagg-qemu-dm: one HVM domain's device model, a restartable service domain answering the kernel's ioreq page.
using Disagg.QemuDm.Hosting;
using Disagg.Service.Hosting;
using Microsoft.Extensions.Logging;

if (Environment.GetEnvironmentVariable("DISAGG_DIE_WITH_PARENT") == "1") Disagg.Interop.ProcessSignals.DieWithParent(); // started by the host daemon: go when it goes

if (!QemuDmOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(QemuDmOptions.Usage);
    return 2;
}

// The services' one log form (one line per event on stderr); a factory over it alone builds no container, no options.
using var loggers = new LoggerFactory([new StderrLineLogger(LogLevel.Information)]);
return await QemuDmHost.RunAsync(options!, loggers);
