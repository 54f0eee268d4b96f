using System.Globalization;
using Disagg.Abi.Io;

namespace Disagg.Xenbus;

/// <summary>The "state" node's text form: a decimal <see cref="XenbusState"/>.</summary>
public static class XenbusStates
{
    /// <summary>The state a node holds; <see cref="XenbusState.Unknown"/> for a missing node or anything not a known state.</summary>
    public static XenbusState Parse(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 8 ? (XenbusState)n : XenbusState.Unknown;

    public static string Format(XenbusState state) => ((int)state).ToString(CultureInfo.InvariantCulture);
}
