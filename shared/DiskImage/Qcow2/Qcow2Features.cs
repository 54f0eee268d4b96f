namespace Disagg.DiskImage.Qcow2;

/// <summary>Feature bits of the header (qcow2.txt, "Header", bytes 72-95), by field.</summary>
internal static class Qcow2Features
{
    // incompatible_features
    public const ulong DirtyBit = 1UL << 0;
    public const ulong CorruptBit = 1UL << 1;
    public const ulong ExternalDataFile = 1UL << 2;
    public const ulong CompressionType = 1UL << 3;
    public const ulong ExtendedL2 = 1UL << 4;

    // compatible_features
    public const ulong LazyRefcounts = 1UL << 0;

    // Header extension types (qcow2.txt, "Header extensions").
    public const uint ExtensionEnd = 0x00000000;
    public const uint ExtensionBackingFormat = 0xE2792ACA;
    public const uint ExtensionFeatureNameTable = 0x6803F857;
    public const uint ExtensionBitmaps = 0x23852875;
    public const uint ExtensionFullDiskEncryption = 0x0537BE77;
    public const uint ExtensionExternalDataFile = 0x44415441;

    public static string NameIncompatible(ulong bits) => bits switch
    {
        DirtyBit => "dirty",
        CorruptBit => "corrupt",
        ExternalDataFile => "external data file",
        CompressionType => "non-zlib compression type",
        ExtendedL2 => "extended L2 entries (subclusters)",
        _ => $"unknown incompatible feature bits 0x{bits:x}",
    };
}
