namespace Disagg.QemuDm.Devices;

/// <summary>
/// Everything of the UART a guest can observe, kept in a state file so a SIGKILLed qemu-dm is a pause: the
/// new process reads it back before it answers anything. Written (temp file + rename, atomic) whenever it
/// changes, before the access that changed it is answered or the interrupt it raises is asserted.
/// </summary>
internal sealed record UartState
{
    private const uint Magic = 0x3155_5344; // "DSU1"

    public byte Ier { get; set; }

    public byte Lcr { get; set; }

    public byte Mcr { get; set; }

    public byte Scr { get; set; }

    public byte Fcr { get; set; }

    public byte Dll { get; set; } = 12;

    public byte Dlm { get; set; }

    /// <summary>THRE interrupt pending: set when THR empties with THRI enabled, cleared by reading IIR or writing THR.</summary>
    public bool ThrEmptyPending { get; set; }

    /// <summary>Received bytes the guest has not read yet (the 16-byte FIFO).</summary>
    public Queue<byte> Receive { get; init; } = new();

    public byte[] Serialize()
    {
        var b = new byte[16 + Receive.Count];
        BitConverter.TryWriteBytes(b, Magic);
        b[4] = Ier;
        b[5] = Lcr;
        b[6] = Mcr;
        b[7] = Scr;
        b[8] = Fcr;
        b[9] = Dll;
        b[10] = Dlm;
        b[11] = ThrEmptyPending ? (byte)1 : (byte)0;
        b[12] = (byte)Receive.Count;
        Receive.CopyTo(b, 16);
        return b;
    }

    /// <summary>The state in <paramref name="path"/>, a fresh one if there is none; null (with why) if the file is not ours.</summary>
    public static UartState? Load(string path, out string? error)
    {
        error = null;
        if (!File.Exists(path))
        {
            return new UartState();
        }

        var b = File.ReadAllBytes(path);
        if (b.Length < 16 || BitConverter.ToUInt32(b) != Magic || b[12] > Ns16550a.FifoBytes || b.Length != 16 + b[12])
        {
            error = $"{path}: not a UART state file ({b.Length} bytes)";
            return null;
        }

        var s = new UartState { Ier = b[4], Lcr = b[5], Mcr = b[6], Scr = b[7], Fcr = b[8], Dll = b[9], Dlm = b[10], ThrEmptyPending = b[11] != 0 };
        foreach (var c in b.AsSpan(16))
        {
            s.Receive.Enqueue(c);
        }

        return s;
    }

    public void Save(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, Serialize());
        File.Move(temp, path, overwrite: true);
    }
}
