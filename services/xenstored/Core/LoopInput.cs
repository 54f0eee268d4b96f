namespace Disagg.Xenstored.Core;

/// <summary>What the event loop is asked to do next.</summary>
public enum LoopInputKind
{
    /// <summary>A whole request (header + payload) in a pooled buffer, from a socket connection.</summary>
    Request,

    /// <summary>The connection's peer went away or broke the protocol: stop serving it.</summary>
    Closed,

    /// <summary>A guest rang its event channel (or a throttled ring may continue): service its ring.</summary>
    Kick,

    /// <summary>Anything rare (accept, ring hand-off, async send completion, stop): run the action on the loop.</summary>
    Invoke,
}

/// <summary>One item in the event loop's queue. A struct, so requests cost no allocation to enqueue.</summary>
public readonly record struct LoopInput(LoopInputKind Kind, XsConnection? Connection, byte[]? Buffer, int Length, Action? Action = null);
