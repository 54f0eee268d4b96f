namespace Disagg.DomainImage;

/// <summary>
/// The kind of a record in a domain image. Append-only with explicit values: an image names its kinds on
/// the wire, and a reader refuses a kind it does not know. HVM device state (the PLIC, the device model)
/// will be appended as its own kind, one record per device, between the grant table and the end.
/// </summary>
public enum ImageRecordKind : ushort
{
    Header = 1,
    Domain = 2,
    Vcpu = 3,
    Memory = 4,
    ZeroPages = 5,
    EventChannels = 6,
    GrantTable = 7,
    End = 0x7FFF,
}
