namespace Disagg.Service.Hosting;

/// <summary>
/// A service's hosted service says how the process ends, in the supervisor's terms: 0 a planned stop, 69 the kernel
/// or xenstored unreachable (retry), 75 a peer or our own loop failed (restart us), others per service.
/// </summary>
public interface IServiceExit
{
    int ExitCode { get; }
}
