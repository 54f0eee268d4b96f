namespace Disagg.Service;

/// <summary>
/// How the host daemon tells a service domain where its kernel is and who it is: environment variables
/// set when the supervisor starts it (docs/ARCHITECTURE.md, "Service domains").
/// </summary>
public sealed record ServiceEnvironment(string KernelSocket, string Token, int DomainId)
{
    public const string KernelSocketVariable = "DISAGG_KERNEL_SOCKET";
    public const string TokenVariable = "DISAGG_SERVICE_TOKEN";
    public const string DomainIdVariable = "DISAGG_DOMAIN_ID";

    /// <summary>The service's environment, or null when it was not started by a host daemon.</summary>
    public static ServiceEnvironment? FromProcess()
    {
        var socket = Environment.GetEnvironmentVariable(KernelSocketVariable);
        var token = Environment.GetEnvironmentVariable(TokenVariable);
        var id = Environment.GetEnvironmentVariable(DomainIdVariable);
        return string.IsNullOrEmpty(socket) || string.IsNullOrEmpty(token) || !int.TryParse(id, out var domainId)
            ? null
            : new ServiceEnvironment(socket, token, domainId);
    }
}
