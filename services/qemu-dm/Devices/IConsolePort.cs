namespace Disagg.QemuDm.Devices;

/// <summary>Where the UART's bytes go and come from: the console socket.</summary>
internal interface IConsolePort
{
    void Write(byte value);

    /// <summary>The next byte typed, if any. Never blocks.</summary>
    bool TryRead(out byte value);
}
