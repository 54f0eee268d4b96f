namespace Disagg.Kernel.Core.Console;

/// <summary>The SBI console of a domain under the toolstack: output into its early console log, input from the keystrokes the control domain queued.</summary>
public sealed class LoggedSbiConsole(KernelMessageLog output, ConsoleInput input) : ISbiConsole
{
    public void Write(ReadOnlySpan<byte> text) => output.WriteRaw(text);

    public int ReadByte() => input.ReadByte();

    public int Read(Span<byte> into, Func<ReadOnlySpan<byte>, bool> deliver) => input.Read(into, deliver);
}
