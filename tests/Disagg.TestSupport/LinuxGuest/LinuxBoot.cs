using System.Diagnostics;
using System.Text;
using Disagg.Control;
using Disagg.Control.Messages;

namespace Disagg.TestSupport.LinuxGuest;

/// <summary>What one Linux HVM boot printed and how long it took, from CreateDomain.</summary>
public sealed record LinuxBootResult(string Console, TimeSpan? CreateToInit, TimeSpan CreateToEnd, DomainEvent End);

/// <summary>
/// Boots the Linux guest (`make linux-guest`) as an HVM domain of a running disagg-kernel, as the toolstack
/// would: CreateDomain with Hvm, LoadKernel (Image, initramfs, command line), Unpause; then reads its SBI
/// console until the domain shuts down or crashes. The control client must be subscribed to domain events.
/// Used by the boot tests and by bench/linux-boot, so both measure the same thing.
/// </summary>
public static class LinuxBoot
{
    /// <summary>The line guests/linux/init logs first: "init reached".</summary>
    public const string InitMarker = "disagg-init: start";

    /// <summary>A lean boot: SBI earlycon kept as the console (no UART yet), notices and above, /init runs <paramref name="run"/>.</summary>
    public static string CommandLine(string run) =>
        $"earlycon=sbi keep_bootcon panic=-1 loglevel=6 printk.devkmsg=on DISAGG_RUN=\"{run}\"";

    public static async Task<LinuxBootResult> RunAsync(KernelClient control, string name, string commandLine, int vcpus, long memoryMiB, TimeSpan timeout)
    {
        var kernel = await File.ReadAllBytesAsync(LinuxGuestFiles.Kernel);
        var initramfs = await File.ReadAllBytesAsync(LinuxGuestFiles.Initramfs);
        var clock = Stopwatch.StartNew();
        var spec = new CreateDomain(name, GuestIsa.Rv64, vcpus, vcpus, memoryMiB << 10, memoryMiB << 10, 256, 0, [ulong.MaxValue], 0, 0, Hvm: true);
        var id = (await control.CallAsync<DomainCreated>(spec)).DomainId;
        await control.CallAsync<OkReply>(new LoadKernel(id, kernel, initramfs, commandLine));
        await control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Unpause));

        var console = new StringBuilder();
        long offset = 0;
        TimeSpan? toInit = null;
        DomainEvent? end = null;
        while (true)
        {
            var chunk = await control.CallAsync<ConsoleChunk>(new ReadConsole(id, offset, 1 << 16));
            console.Append(Encoding.UTF8.GetString(chunk.Text));
            offset = chunk.NextOffset;
            if (toInit is null && console.ToString().Contains(InitMarker, StringComparison.Ordinal))
            {
                toInit = clock.Elapsed;
            }

            if (end is not null && chunk.Text.Length == 0)
            {
                break; // ended, and everything it printed has been read
            }

            while (end is null && control.Events.TryRead(out var e))
            {
                if (e.DomainId == id && e.State is "s" or "c")
                {
                    end = e;
                }
            }

            if (end is null && clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Linux (domain {id}) did not shut down in {timeout.TotalSeconds:F0} s; its console:\n{console}");
            }

            if (end is null && chunk.Text.Length == 0)
            {
                await Task.Delay(50);
            }
        }

        var took = clock.Elapsed;
        await control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Destroy));
        return new LinuxBootResult(console.ToString(), toInit, took, end);
    }
}
