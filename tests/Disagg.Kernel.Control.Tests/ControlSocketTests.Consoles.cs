using System.Text;
using Disagg.Control.Messages;
using Disagg.Kernel.Core.Tests;
using Disagg.Kernel.Cpu.Tests;

namespace Disagg.Kernel.Control.Tests;

/// <summary>Console notices (WatchConsoles): pushed when a source has new bytes, one per source until it is read again.</summary>
public sealed partial class ControlSocketTests
{
    private static readonly TimeSpan NoticeBound = TimeSpan.FromSeconds(30);

    private async Task<int> NextNoticeAsync()
    {
        using var timeout = new CancellationTokenSource(NoticeBound);
        return (await _control.ConsoleActivity.ReadAsync(timeout.Token)).DomainId;
    }

    [Fact]
    public async Task TheMessageLogNotifiesOnceUntilItIsReadAgain()
    {
        await _control.CallAsync<OkReply>(new WatchConsoles());
        await _control.CallAsync<DomainCreated>(Spec("first")); // "created domain ..." goes to the message log
        Assert.Equal(ConsoleActivity.MessageLog, await NextNoticeAsync());

        // Unread: more lines raise no second notice (a busy log costs one notice per read, not one per line).
        await _control.CallAsync<DomainCreated>(Spec("second"));
        await _control.CallAsync<DomainCreated>(Spec("third"));
        await _control.CallAsync<HostInfo>(new GetHostInfo()); // after the writes: any notice they raised is queued before this reply
        Assert.False(_control.ConsoleActivity.TryRead(out _), "a second notice before the log was read");

        // Read: the next line notifies again.
        var log = await _control.CallAsync<MessageLogChunk>(new ReadMessageLog(0, 1 << 20));
        Assert.Contains("'third'", Encoding.UTF8.GetString(log.Text), StringComparison.Ordinal);
        await _control.CallAsync<DomainCreated>(Spec("fourth"));
        Assert.Equal(ConsoleActivity.MessageLog, await NextNoticeAsync());
    }

    [Fact]
    public async Task AGuestsSbiConsoleOutputIsNotifiedAndReadable()
    {
        await _control.CallAsync<OkReply>(new WatchConsoles());
        // SBI legacy console putchar (EID 0x01) of 'h', 'i', '\n', then power off.
        var program = new GuestProgram();
        foreach (var c in "hi\n")
        {
            program.Li(GuestProgram.A0, c).Li(GuestProgram.A7, 1).Emit(Asm.Ecall);
        }

        var id = await BootAsync(program.Shutdown(), "sbi-notice");
        int source;
        do
        {
            source = await NextNoticeAsync();
        }
        while (source != id);

        var text = new StringBuilder();
        var offset = 0L;
        var deadline = DateTime.UtcNow + NoticeBound;
        while (!text.ToString().Contains("hi\n", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            var chunk = await _control.CallAsync<ConsoleChunk>(new ReadConsole(id, offset, 4096));
            offset = chunk.NextOffset;
            text.Append(Encoding.ASCII.GetString(chunk.Text));
            if (chunk.Text.Length == 0 && !text.ToString().Contains("hi\n", StringComparison.Ordinal))
            {
                do
                {
                    source = await NextNoticeAsync(); // nothing yet: the next notice says when
                }
                while (source != id);
            }
        }

        Assert.Equal("hi\n", text.ToString());
    }

    [Fact]
    public async Task WatchingConsolesIsForTheControlDomainOnly()
    {
        var registered = await _control.CallAsync<ServiceRegistered>(new RegisterService("watcher", 9));
        await using var service = await _kernel.ConnectAsync(registered.Token);
        var e = Assert.IsType<ErrorReply>(await service.RequestAsync(new WatchConsoles()));
        Assert.Contains("only the control domain", e.Message, StringComparison.Ordinal);
    }
}
