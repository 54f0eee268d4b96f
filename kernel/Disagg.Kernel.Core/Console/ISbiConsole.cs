namespace Disagg.Kernel.Core.Console;

/// <summary>
/// A domain's SBI console (legacy putchar and getchar, DBCN): what an unmodified guest prints and reads
/// before it has a console driver of its own. Under the toolstack it is the domain's early console log
/// and the keystrokes the control domain queued (<see cref="LoggedSbiConsole"/>); `run-elf` puts its own
/// stdout and stdin there. Called on the vCPU's pCPU thread, so an implementation never waits for input.
/// </summary>
public interface ISbiConsole
{
    /// <summary>Guest output, byte for byte as the guest wrote it.</summary>
    void Write(ReadOnlySpan<byte> text);

    /// <summary>One byte of input, or -1 when there is none (legacy getchar's answer).</summary>
    int ReadByte();

    /// <summary>Hands up to <paramref name="into"/>'s length of input to <paramref name="deliver"/>; only what it accepts is consumed. -1: it refused.</summary>
    int Read(Span<byte> into, Func<ReadOnlySpan<byte>, bool> deliver);
}
