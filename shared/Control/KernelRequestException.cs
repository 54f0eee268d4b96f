using Disagg.Control.Messages;

namespace Disagg.Control;

/// <summary>The kernel refused a request: its errno and message (which name the domain and the reason).</summary>
public sealed class KernelRequestException(ControlMessage reply)
    : Exception(reply is ErrorReply e ? e.Message : $"unexpected reply {reply.GetType().Name}")
{
    public int Errno { get; } = reply is ErrorReply e ? e.Errno : 0;
}
