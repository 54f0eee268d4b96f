using System.Text;
using Disagg.Abi.Boot;

namespace Disagg.Kernel.Core.Domains;

/// <summary>Fills a PV domain's start_info page (ARCHITECTURE §2: what the guest finds at a1 when it boots).</summary>
public static unsafe class StartInfoWriter
{
    /// <summary>The magic string: Xen's "xen-&lt;version&gt;-&lt;arch&gt;" form.</summary>
    public static string Magic(bool rv64) => rv64 ? "xen-4.17-riscv64" : "xen-4.17-riscv32";

    public static void Write(
        StartInfo* info,
        bool rv64,
        ulong ramPages,
        uint consoleEvtchn,
        uint storeEvtchn,
        string commandLine,
        ulong ramdiskAddress,
        ulong ramdiskLength)
    {
        *info = default;
        Copy(Magic(rv64), info->Magic, StartInfo.MagicLength);
        info->NrPages = ramPages;
        info->SharedInfo = PvLayout.SpecialAddress(PvLayout.SharedInfoPage);
        info->Flags = 0;
        info->StoreMfn = PvLayout.SpecialFrame(PvLayout.XenstorePage);
        info->StoreEvtchn = storeEvtchn;
        info->ConsoleMfn = PvLayout.SpecialFrame(PvLayout.ConsolePage);
        info->ConsoleEvtchn = consoleEvtchn;
        info->ModStart = ramdiskAddress;
        info->ModLen = ramdiskLength;
        // Xen cuts an over-long command line to the field, always NUL-terminated.
        Copy(commandLine, info->CmdLine, StartInfo.CommandLineLength);
    }

    private static void Copy(string text, byte* field, int size)
    {
        var dest = new Span<byte>(field, size);
        dest.Clear();
        var bytes = Encoding.UTF8.GetBytes(text);
        bytes.AsSpan(0, Math.Min(bytes.Length, size - 1)).CopyTo(dest);
    }
}
