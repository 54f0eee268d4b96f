using System.Globalization;
using System.Net;

namespace Disagg.Toolstack.Http;

/// <summary>
/// Where the dashboard listens (`disagg host up --http ADDR:PORT`, host.conf: http): a loopback address only,
/// since nothing checks who connects; PORT 0 picks a free one (the daemon's log and http.addr say which).
/// </summary>
internal static class HttpAddress
{
    public static IPEndPoint Parse(string text, string where)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new Host.HostConfigException($"{where}: '{text}' is not ADDR:PORT (like 127.0.0.1:8080)");
        }

        var host = text[..colon].Trim('[', ']');
        if (host == "localhost")
        {
            host = "127.0.0.1";
        }

        if (!IPAddress.TryParse(host, out var address))
        {
            throw new Host.HostConfigException($"{where}: '{host}' is not an IP address");
        }

        if (!IPAddress.IsLoopback(address))
        {
            throw new Host.HostConfigException($"{where}: {address} is not a loopback address; the dashboard serves this machine only (reach it remotely through an SSH tunnel)");
        }

        return new IPEndPoint(address, port);
    }
}
