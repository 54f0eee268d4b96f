namespace Disagg.Toolstack.Xenstore;

/// <summary>One device of a guest as xenstore has it: its frontend directory and the backend directory it names.</summary>
internal sealed record DeviceDirs(string Kind, int Devid, string FrontendPath, string BackendPath, int BackendDomain);
