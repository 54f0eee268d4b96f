using System.Diagnostics;
using System.Net.Sockets;
using Disagg.Interop;
using Disagg.TestSupport;

namespace Disagg.Ring.Tests;

/// <summary>Starts Disagg.Ring.Peer as a real second process and hands it file descriptors over a Unix socket.</summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("disagg-ring-").FullName;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public PeerProcess(params string[] mode)
    {
        var socketPath = Path.Combine(_dir, "peer.sock");
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        _listener.Listen(1);
        var exe = Path.Combine(RepoPaths.Root, "artifacts", "bin", "Disagg.Ring.Peer", "release", "Disagg.Ring.Peer");
        var psi = new ProcessStartInfo(exe) { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(mode[0]);
        psi.ArgumentList.Add(socketPath);
        foreach (var a in mode.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        Process = Process.Start(psi)!;
    }

    public Process Process { get; }

    /// <summary>Sends the segment's size and the descriptors; the peer takes them and goes.</summary>
    public void Send(long pages, params FileDescriptor[] fds)
    {
        using var accepted = _listener.Accept();
        UnixRights.Send(accepted, BitConverter.GetBytes(pages), fds);
        // The fds are now the peer's too; our copies stay ours to close.
        accepted.Shutdown(SocketShutdown.Both);
    }

    /// <summary>Waits for the peer to exit; its exit code, or throws (with its stderr) if it hangs.</summary>
    public int WaitForExit(TimeSpan bound)
    {
        if (!Process.WaitForExit(bound))
        {
            Process.Kill();
            throw new TimeoutException($"peer still running after {bound.TotalSeconds} s (a lost wake-up?): {Process.StandardError.ReadToEnd()}");
        }

        return Process.ExitCode;
    }

    public string StdErr => Process.StandardError.ReadToEnd();

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
        }

        Process.Dispose();
        _listener.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
