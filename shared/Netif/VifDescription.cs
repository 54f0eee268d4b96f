namespace Disagg.Netif;

/// <summary>A vif as a toolstack would configure it: device number, MAC, bridge, MTU and an optional libxl rate ("BYTES,MICROSECONDS").</summary>
public sealed record VifDescription(int Device, string Mac, string Bridge, int Mtu = 1500, string? Rate = null);
