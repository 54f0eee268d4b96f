namespace Disagg.QemuDm.Devices;

/// <summary>
/// UART0, an ns16550a with 8-bit registers (reg-shift 0) at 0x1000_0000 on PLIC source 10, the guest's
/// console (console=ttyS0). Registers: RBR/THR 0, IER 1, IIR/FCR 2, LCR 3 (DLAB: 0/1 are the divisor), MCR 4,
/// LSR 5, MSR 6, SCR 7. Transmit is immediate (THR is always empty); receive is a 16-byte FIFO filled from the
/// console. The interrupt is a level: received data with IER.RDI, or THR empty with IER.THRI until IIR is read
/// or THR written. State changes are saved (<see cref="UartState"/>) before the guest can see them.
/// </summary>
internal sealed class Ns16550a(UartState state, IConsolePort console, IDevicePlatform platform, string stateFile) : IMmioWindow
{
    public const ulong WindowBase = 0x1000_0000;
    public const int Irq = 10;
    public const int FifoBytes = 16;

    private const byte IerRdi = 0x01, IerThri = 0x02;
    private const byte LcrDlab = 0x80;
    private const byte LsrDataReady = 0x01, LsrThrEmpty = 0x20, LsrTransmitterEmpty = 0x40;
    private const byte IirNone = 0x01, IirThrEmpty = 0x02, IirReceived = 0x04, IirFifos = 0xC0;
    private const byte MsrDcdDsrCts = 0xB0;

    private bool? _line;
    private byte[] _saved = state.Serialize();

    public ulong Base => WindowBase;

    public ulong Size => 0x100;

    public ulong Read(ulong offset, int size)
    {
        var dlab = (state.Lcr & LcrDlab) != 0;
        byte v;
        switch (offset)
        {
            case 0 when dlab:
                v = state.Dll;
                break;
            case 0:
                v = state.Receive.Count > 0 ? state.Receive.Dequeue() : (byte)0;
                break;
            case 1 when dlab:
                v = state.Dlm;
                break;
            case 1:
                v = state.Ier;
                break;
            case 2:
                v = Iir();
                if ((v & 0x0F) == IirThrEmpty)
                {
                    state.ThrEmptyPending = false; // reading IIR with THRE as its source clears it
                }

                break;
            case 3:
                v = state.Lcr;
                break;
            case 4:
                v = state.Mcr;
                break;
            case 5:
                v = (byte)(LsrThrEmpty | LsrTransmitterEmpty | (state.Receive.Count > 0 ? LsrDataReady : 0));
                break;
            case 6:
                v = MsrDcdDsrCts;
                break;
            case 7:
                v = state.Scr;
                break;
            default:
                v = 0;
                break;
        }

        Changed();
        return v;
    }

    public void Write(ulong offset, int size, ulong value)
    {
        var b = (byte)value;
        var dlab = (state.Lcr & LcrDlab) != 0;
        switch (offset)
        {
            case 0 when dlab:
                state.Dll = b;
                break;
            case 0:
                console.Write(b);
                state.ThrEmptyPending = (state.Ier & IerThri) != 0; // THR empties at once
                break;
            case 1 when dlab:
                state.Dlm = b;
                break;
            case 1:
                if ((b & IerThri) != 0 && (state.Ier & IerThri) == 0)
                {
                    state.ThrEmptyPending = true; // enabling THRI with THR empty interrupts, as on a 16550
                }

                state.Ier = (byte)(b & 0x0F);
                break;
            case 2:
                state.Fcr = (byte)(b & 0xC9);
                if ((b & 0x02) != 0)
                {
                    state.Receive.Clear();
                }

                break;
            case 3:
                state.Lcr = b;
                break;
            case 4:
                state.Mcr = (byte)(b & 0x1F);
                break;
            case 7:
                state.Scr = b;
                break;
        }

        Changed();
    }

    /// <summary>Moves typed bytes into the FIFO while it has room; true if any arrived.</summary>
    public bool PollInput()
    {
        var any = false;
        while (state.Receive.Count < FifoBytes && console.TryRead(out var c))
        {
            state.Receive.Enqueue(c);
            any = true;
        }

        if (any)
        {
            Changed();
        }

        return any;
    }

    /// <summary>After a restart: the saved state decides the line, which the kernel may still hold from before.</summary>
    public void Resume()
    {
        _line = null;
        Changed();
    }

    private byte Iir()
    {
        var fifos = (state.Fcr & 0x01) != 0 ? IirFifos : (byte)0;
        if ((state.Ier & IerRdi) != 0 && state.Receive.Count > 0)
        {
            return (byte)(fifos | IirReceived);
        }

        if ((state.Ier & IerThri) != 0 && state.ThrEmptyPending)
        {
            return (byte)(fifos | IirThrEmpty);
        }

        return (byte)(fifos | IirNone);
    }

    /// <summary>Saves a changed state first, then moves the interrupt line if its level changed.</summary>
    private void Changed()
    {
        var now = state.Serialize();
        if (!now.AsSpan().SequenceEqual(_saved))
        {
            state.Save(stateFile);
            _saved = now;
        }

        var level = (Iir() & 0x01) == 0;
        if (level != _line)
        {
            platform.SetIrqLevel(Irq, level);
            _line = level;
        }
    }
}
