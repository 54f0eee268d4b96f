using System.Text;
using Disagg.Abi.Io;

namespace Disagg.Xenstored.Tests;

/// <summary>One message from xenstored.</summary>
public sealed record XsReply(XsMessageType Type, uint ReqId, uint TxId, byte[] Payload)
{
    public string Text => Encoding.Latin1.GetString(Payload);

    /// <summary>The NUL-separated strings of the payload (without the empty one after the last NUL).</summary>
    public string[] Strings => Text.Length == 0 ? [] : Text.TrimEnd('\0').Split('\0');

    public XsReply Expect(XsMessageType type)
    {
        Assert.True(Type == type, $"expected {type}, got {Type} '{Text}'");
        return this;
    }

    public void ExpectError(string errno)
    {
        Assert.True(Type == XsMessageType.Error, $"expected error {errno}, got {Type} '{Text}'");
        Assert.Equal(errno + "\0", Text);
    }
}
