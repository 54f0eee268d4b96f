using Disagg.Kernel.Core.Console;

namespace Disagg.Kernel.Runner;

/// <summary>
/// run-elf's SBI console: the guest's bytes go to a stream unchanged (the QEMU differential tests compare
/// them byte for byte), flushed at every newline, at the end of every multi-byte write (DBCN: a prompt shows
/// at once) and when the guest stops, so a crash still shows what was printed. Input comes from a stream read
/// by a background thread, started only when the guest first asks for input, so reading never blocks the vCPU.
/// </summary>
internal sealed class StdioConsole(Stream output, Func<Stream>? openInput) : ISbiConsole
{
    private readonly byte[] _buffer = new byte[4096];
    private readonly Queue<byte> _input = new();
    private int _used;
    private Thread? _reader;

    public void Write(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            _buffer[_used++] = b;
            if (b == (byte)'\n' || _used == _buffer.Length)
            {
                Flush();
            }
        }

        if (text.Length > 1)
        {
            Flush();
        }
    }

    /// <summary>Writes out what is buffered; the vCPU's thread while it runs, the runner's once it stopped.</summary>
    public void Flush()
    {
        if (_used > 0)
        {
            output.Write(_buffer, 0, _used);
            _used = 0;
        }

        output.Flush();
    }

    public int ReadByte()
    {
        StartReader();
        lock (_input)
        {
            return _input.TryDequeue(out var b) ? b : -1;
        }
    }

    public int Read(Span<byte> into, Func<ReadOnlySpan<byte>, bool> deliver)
    {
        StartReader();
        lock (_input)
        {
            var n = Math.Min(into.Length, _input.Count);
            var i = 0;
            foreach (var b in _input)
            {
                if (i == n)
                {
                    break;
                }

                into[i++] = b;
            }

            if (n == 0)
            {
                return 0;
            }

            if (!deliver(into[..n]))
            {
                return -1;
            }

            for (i = 0; i < n; i++)
            {
                _input.Dequeue();
            }

            return n;
        }
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
                    lock (_input)
                    {
                        for (var i = 0; i < n; i++)
                        {
                            _input.Enqueue(chunk[i]);
                        }
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
