using System.Globalization;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;

namespace Disagg.TestSupport;

/// <summary>
/// A host for one backend's end-to-end tests and benchmarks, in a temp directory: the real disagg-kernel, a real
/// disagg-xenstored (socket only), and the real backend program registered as service domain <see cref="Domain"/>,
/// started as the toolstack's supervisor starts it (its kernel channel in the service environment, a "ready" line
/// waited for). Tests that play the supervisor kill and restart <see cref="Backend"/>. Everything is torn down.
/// </summary>
public sealed class BackendRig : IAsyncDisposable
{
    private BackendRig(string dir, string name, int domain, KernelProcess kernel, KernelClient control, ServiceProcess xenstored, ServiceProcess backend)
    {
        Directory = dir;
        Name = name;
        Domain = domain;
        Kernel = kernel;
        Control = control;
        Xenstored = xenstored;
        Backend = backend;
    }

    public string Directory { get; }

    /// <summary>The service's name as registered with the kernel ("netback", "blkback").</summary>
    public string Name { get; }

    public int Domain { get; }

    public KernelProcess Kernel { get; }

    /// <summary>A control client of the kernel (privileged, as the toolstack's).</summary>
    public KernelClient Control { get; }

    public ServiceProcess Xenstored { get; }

    public ServiceProcess Backend { get; }

    public string XenstoreSocket => Path.Combine(Directory, "xenstored.sock");

    /// <summary>The backend's --state-dir (DIR/NAME): its status file, its lock.</summary>
    public string StateDirectory => Path.Combine(Directory, Name);

    public string File(string name) => Path.Combine(Directory, name);

    /// <summary>
    /// Starts the host. The backend runs <c>PROGRAM --xenstore SOCKET --state-dir DIR</c> followed by
    /// <paramref name="args"/>; <paramref name="wrap"/> prefixes its command line (e.g. ip netns exec NS).
    /// </summary>
    public static async Task<BackendRig> StartAsync(string program, string name, int domain, IEnumerable<string>? args = null, string[]? wrap = null, int pcpus = 1, string memory = "64M")
    {
        var dir = System.IO.Directory.CreateTempSubdirectory($"{name}-test-").FullName;
        var kernel = await KernelProcess.StartAsync(pcpus, memory).ConfigureAwait(false);
        var control = await kernel.ConnectAsync().ConfigureAwait(false);
        var socket = Path.Combine(dir, "xenstored.sock");
        var xenstored = new ServiceProcess("disagg-xenstored", ["--socket", socket, "--state-dir", Path.Combine(dir, "xenstored")]);
        await xenstored.StartAsync().ConfigureAwait(false);
        var token = (await control.CallAsync<ServiceRegistered>(new RegisterService(name, domain)).ConfigureAwait(false)).Token;
        var command = new List<string>();
        var file = program;
        if (wrap is not null)
        {
            file = wrap[0];
            command.AddRange(wrap[1..]);
            command.Add(RepoPaths.Program(program));
        }

        command.AddRange(["--xenstore", socket, "--state-dir", Path.Combine(dir, name), .. args ?? []]);
        var backend = new ServiceProcess(file, command, new Dictionary<string, string>
        {
            [ServiceEnvironment.KernelSocketVariable] = kernel.Socket,
            [ServiceEnvironment.TokenVariable] = token,
            [ServiceEnvironment.DomainIdVariable] = domain.ToString(CultureInfo.InvariantCulture),
        });
        await backend.StartAsync().ConfigureAwait(false);
        return new BackendRig(dir, name, domain, kernel, control, xenstored, backend);
    }

    /// <summary>
    /// The backend's status file line whose first word is <paramref name="line"/> ("switch", "vif5.0", "loop",
    /// "vbd20.0"), as key=value pairs, once <paramref name="until"/> holds for it (the file is rewritten, by rename,
    /// every 500 ms).
    /// </summary>
    public async Task<Dictionary<string, string>> StatusAsync(string line, Func<Dictionary<string, string>, bool>? until = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        var path = Path.Combine(StateDirectory, "status");
        while (true)
        {
            var last = System.IO.File.Exists(path) ? System.IO.File.ReadAllLines(path).FirstOrDefault(l => l.StartsWith(line + " ", StringComparison.Ordinal)) : null;
            if (last is not null)
            {
                var fields = last.Split(' ').Skip(1).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
                if (until is null || until(fields))
                {
                    return fields;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"status line '{line}' never matched; last: {last ?? "(none)"}\n{Backend.StdErr}");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Backend.Dispose();
        Xenstored.Dispose();
        await Control.DisposeAsync().ConfigureAwait(false);
        await Kernel.DisposeAsync().ConfigureAwait(false);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a socket still being removed
        }
    }
}
