using System.Text;

namespace Disagg.Xenstored.Protocol;

/// <summary>The NUL-terminated wire payload of each <see cref="XsError"/>, encoded once (no allocation per reply).</summary>
public static class XsErrorNames
{
    private static readonly byte[][] Payloads = Build();

    public static ReadOnlySpan<byte> Payload(XsError error) => Payloads[(int)error];

    private static byte[][] Build()
    {
        var values = Enum.GetValues<XsError>();
        var table = new byte[values.Length][];
        foreach (var e in values)
        {
            table[(int)e] = Encoding.ASCII.GetBytes(e.ToString() + "\0");
        }

        return table;
    }
}
