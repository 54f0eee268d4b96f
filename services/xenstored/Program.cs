// disagg-xenstored: the configuration store, a restartable service domain speaking Xen's xs_wire.
using Disagg.Xenstored.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

if (Environment.GetEnvironmentVariable("DISAGG_DIE_WITH_PARENT") == "1") Disagg.Interop.ProcessSignals.DieWithParent(); // started by the host daemon: go when it goes

if (!XenstoredOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(XenstoredOptions.Usage);
    return 2;
}

// The empty builder: no configuration files, environment or command-line providers to read at start (a
// restart must stay within ~50 ms), and the console lifetime's SIGTERM/SIGINT handling.
var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "disagg-xenstored" });
builder.Logging
    .SetMinimumLevel(LogLevel.Information)
    .AddSimpleConsole(o => o.SingleLine = true)
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
builder.Services.AddXenstored(options!);
using var host = builder.Build();
var server = host.Services.GetRequiredService<XenstoredServer>(); // Run disposes the container
host.Run();
return server.ExitCode;
