using System.Text;
using Disagg.Control;
using Disagg.Control.Messages;
using Xunit;

namespace Disagg.TestSupport;

/// <summary>
/// One real `disagg-kernel serve` (<see cref="KernelProcess"/>) per test class, with a control client
/// subscribed to domain events; stopped when the class is done. <see cref="Engine"/> picks the vCPU engine.
/// </summary>
public class KernelHost : IAsyncLifetime
{
    private KernelProcess _kernel = null!;

    public KernelClient Control { get; private set; } = null!;

    /// <summary>The kernel's --engine; null for its default.</summary>
    protected virtual string? Engine => null;

    public async Task InitializeAsync()
    {
        _kernel = await KernelProcess.StartAsync(engine: Engine);
        Control = await _kernel.ConnectAsync();
        await Control.CallAsync<OkReply>(new Subscribe());
    }

    public async Task DisposeAsync()
    {
        await Control.DisposeAsync();
        await _kernel.DisposeAsync();
    }

    /// <summary>The kernel message log: every guest line is "(dN) text".</summary>
    public async Task<string> DmesgAsync()
    {
        var chunk = await Control.CallAsync<MessageLogChunk>(new ReadMessageLog(0, 1 << 20));
        return Encoding.UTF8.GetString(chunk.Text);
    }
}
