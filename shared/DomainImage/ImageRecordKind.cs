namespace Disagg.DomainImage;

/// <summary>
/// The kind of a record in a domain image. Append-only with explicit values: an image names its kinds on
/// the wire, and a reader refuses a kind it does not know. An HVM domain's platform (the PLIC, the device model
/// named) and its device model's state follow the grant table, in that order; a PV image has neither, so the
/// format's version stays 1: a reader from before refuses an HVM image by its kind, as the rule says.
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
    HvmPlatform = 8,
    DeviceModel = 9,
    End = 0x7FFF,
}
