using System.Collections.Concurrent;

namespace Disagg.Kernel.Platform;

/// <summary>
/// The guest's debug console: output to a stream, flushed at every newline and whenever the guest
/// stops (so a crash still shows what was printed); input from a stream read by a background thread,
/// started only when the guest first asks for input, so reading never blocks the vCPU.
/// </summary>
internal sealed class SbiConsole(Stream output, Func<Stream>? openInput)
{
    private readonly byte[] _buffer = new byte[4096];
    private readonly ConcurrentQueue<byte> _input = new();
    private int _used;
    private Thread? _reader;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            _buffer[_used++] = b;
            if (b == (byte)'\n' || _used == _buffer.Length)
            {
                Flush();
            }
        }
    }

    public void Flush()
    {
        if (_used > 0)
        {
            output.Write(_buffer, 0, _used);
            _used = 0;
        }

        output.Flush();
    }

    /// <summary>Takes up to destination.Length bytes of input that have arrived; never waits.</summary>
    public int Read(Span<byte> destination)
    {
        StartReader();
        var n = 0;
        while (n < destination.Length && _input.TryDequeue(out var b))
        {
            destination[n++] = b;
        }

        return n;
    }

    private void StartReader()
    {
        if (_reader is not null || openInput is null)
        {
            return;
        }

        var stream = openInput();
        _reader = new Thread(() =>
        {
            var chunk = new byte[256];
            try
            {
                int n;
                while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
                {
                    for (var i = 0; i < n; i++)
                    {
                        _input.Enqueue(chunk[i]);
                    }
                }
            }
            catch (IOException)
            {
                // stdin closed under us: the guest just sees no more input.
            }
        })
        { IsBackground = true, Name = "sbi-console-input" };
        _reader.Start();
    }
}
