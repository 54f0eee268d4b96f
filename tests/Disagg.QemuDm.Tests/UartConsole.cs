using System.Net.Sockets;
using System.Text;

namespace Disagg.QemuDm.Tests;

/// <summary>A client of qemu-dm's console socket: everything received is kept; waits are for text to appear.</summary>
internal sealed class UartConsole : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StringBuilder _text = new();
    private readonly Task _reader;

    private UartConsole(Socket socket)
    {
        _socket = socket;
        _reader = Task.Run(ReadAsync);
    }

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    /// <summary>Connects, retrying while qemu-dm is (re)starting.</summary>
    public static async Task<UartConsole> ConnectAsync(string path, TimeSpan patience)
    {
        var until = DateTime.UtcNow + patience;
        while (true)
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await s.ConnectAsync(new UnixDomainSocketEndPoint(path));
                return new UartConsole(s);
            }
            catch (SocketException) when (DateTime.UtcNow < until)
            {
                s.Dispose();
                await Task.Delay(100);
            }
        }
    }

    public async Task TypeAsync(string line) => await _socket.SendAsync(Encoding.ASCII.GetBytes(line + "\n"), SocketFlags.None);

    /// <summary>
    /// Waits until <paramref name="text"/> appears after position <paramref name="from"/>; returns where it ends.
    /// <paramref name="timeout"/> counts from the guest's last output, up to four times over: an emulated Linux on a
    /// loaded 2-core host may take many times its usual time while printing steadily (it is slow, not stuck), and
    /// one that prints nothing for the whole timeout is stuck.
    /// </summary>
    public async Task<int> WaitForAsync(string text, TimeSpan timeout, int from = 0)
    {
        var start = DateTime.UtcNow;
        var lastOutput = start;
        var seen = -1;
        while (true)
        {
            var now = Text;
            var at = from <= now.Length ? now.IndexOf(text, from, StringComparison.Ordinal) : -1;
            if (at >= 0)
            {
                return at + text.Length;
            }

            var t = DateTime.UtcNow;
            if (now.Length != seen)
            {
                seen = now.Length;
                lastOutput = t;
            }

            if (t - lastOutput > timeout || t - start > 4 * timeout)
            {
                throw new TimeoutException($"'{text}' did not appear on the UART in {(t - start).TotalSeconds:F0} s ({(t - lastOutput).TotalSeconds:F0} s since its last output); it shows:\n{now}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        try
        {
            await _reader;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[4096];
        while (true)
        {
            int n;
            try
            {
                n = await _socket.ReceiveAsync(buffer, SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            if (n == 0)
            {
                return;
            }

            lock (_text)
            {
                _text.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
        }
    }
}
