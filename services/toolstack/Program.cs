// disagg: the xl-compatible command line of the control domain; `disagg host up` is also the host daemon.
using Disagg.Toolstack.Cli;

return await DisaggCommand.RunAsync(args);
