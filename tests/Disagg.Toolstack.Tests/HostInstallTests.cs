using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Disagg.TestSupport;
using Disagg.Toolstack.Host;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// `disagg host install|uninstall` into a temporary root (systemd does not run here): the unit runs the host as a
/// notify service from this build's programs, the config file is one `host up` reads, uninstall removes exactly
/// what install wrote. And the readiness the unit relies on: `host up --foreground` started as systemd starts a
/// service (NOTIFY_SOCKET, SYSTEMD_EXEC_PID) sends READY=1 once the host serves.
/// </summary>
public sealed class HostInstallTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("disagg-root-").FullName;

    [Fact]
    public void InstallWritesANotifyUnitAndAConfigFileThatUninstallRemoves()
    {
        var install = Disagg("host", "install", "--root", _root, "--memory", "512M", "--pcpus", "2");
        Assert.True(install.ExitCode == 0, install.ToString());
        var unitFile = Path.Combine(_root, "etc/systemd/system/disagg.service");
        var configFile = Path.Combine(_root, "etc/disagg/host.conf");
        var unit = File.ReadAllText(unitFile);
        Assert.Contains("Type=notify\n", unit, StringComparison.Ordinal);
        Assert.Contains($"ExecStart={RepoPaths.Program("disagg")} host up --foreground --state-dir /var/lib/disagg --config /etc/disagg/host.conf\n", unit, StringComparison.Ordinal);
        Assert.Contains("StateDirectoryMode=0700\n", unit, StringComparison.Ordinal);
        Assert.Contains("WantedBy=multi-user.target\n", unit, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(configFile));

        // The config file is one `host up` reads, with what install was told.
        var config = HostConfig.Read(configFile);
        Assert.Equal("512M", config.Memory);
        Assert.Equal(2, config.Pcpus);
        Assert.True(config.Sandbox);

        // Installing again keeps the config file (it may have been edited) and rewrites the unit.
        File.AppendAllText(configFile, "shutdown_timeout = 3\n");
        Assert.Contains("kept " + configFile, Disagg("host", "install", "--root", _root).StdOut, StringComparison.Ordinal);
        Assert.Equal(3, HostConfig.Read(configFile).ShutdownTimeoutSeconds);

        var uninstall = Disagg("host", "uninstall", "--root", _root);
        Assert.True(uninstall.ExitCode == 0, uninstall.ToString());
        Assert.False(File.Exists(unitFile));
        Assert.False(File.Exists(configFile));
        Assert.False(Directory.Exists(Path.Combine(_root, "etc/disagg")));
    }

    [Fact]
    public void AUnitSomeoneElseWroteIsNeitherReplacedNorRemoved()
    {
        var unitFile = Path.Combine(_root, "etc/systemd/system/disagg.service");
        Directory.CreateDirectory(Path.GetDirectoryName(unitFile)!);
        File.WriteAllText(unitFile, "[Service]\nExecStart=/usr/bin/other\n");
        var install = Disagg("host", "install", "--root", _root);
        Assert.Equal(1, install.ExitCode);
        Assert.Contains("was not written by `disagg host install`", install.StdErr, StringComparison.Ordinal);
        Assert.Contains("kept " + unitFile, Disagg("host", "uninstall", "--root", _root).StdOut, StringComparison.Ordinal);
        Assert.True(File.Exists(unitFile));
    }

    [Fact]
    public void BadValuesAreRefusedBeforeAnythingIsWritten()
    {
        Assert.Equal(2, Disagg("host", "install", "--root", _root, "--memory", "lots").ExitCode);
        Assert.Equal(2, Disagg("host", "install", "--root", Path.Combine(_root, "absent")).ExitCode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public async Task TheForegroundHostTellsSystemdItIsReady()
    {
        var state = Directory.CreateTempSubdirectory("dsd-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(state, "host.conf"), "memory = 64M\npcpus = 1\nservices = none\nshutdown_timeout = 2\n");
            var notify = Path.Combine(state, "notify");
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(notify));

            // As systemd starts a unit: NOTIFY_SOCKET, and SYSTEMD_EXEC_PID naming the service's own pid (the shell's, which exec keeps).
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("SYSTEMD_EXEC_PID=$$ exec \"$0\" host up --foreground --state-dir \"$1\"");
            psi.ArgumentList.Add(RepoPaths.Program("disagg"));
            psi.ArgumentList.Add(state);
            psi.Environment["NOTIFY_SOCKET"] = notify;
            using var host = Process.Start(psi)!;
            host.BeginOutputReadLine();
            host.BeginErrorReadLine();
            try
            {
                var buffer = new byte[4096];
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
                var said = "";
                while (!said.Contains("READY=1", StringComparison.Ordinal))
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                    said += Encoding.UTF8.GetString(buffer, 0, n) + "\n";
                }

                // Ready means serving: the CLI reaches the daemon at once.
                Assert.Equal(0, HostProcess.Run(RepoPaths.Program("disagg"), ["host", "status", "--state-dir", state], TestHost.Bound).ExitCode);
            }
            finally
            {
                HostProcess.Run(RepoPaths.Program("disagg"), ["host", "down", "--timeout", "2", "--state-dir", state], TimeSpan.FromSeconds(120));
                if (!host.WaitForExit(TimeSpan.FromSeconds(60)))
                {
                    host.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static ProcessResult Disagg(params string[] args) => HostProcess.Run(RepoPaths.Program("disagg"), args, TestHost.Bound);
}
