using Disagg.Xenstored.Permissions;

namespace Disagg.Xenstored.Store;

/// <summary>
/// A change watches may fire for: the path, the permissions that decide who may see it, and whether
/// it removed a subtree (then watches set below the path fire too, with their own path).
/// </summary>
public readonly record struct WatchTrigger(string Path, XsPermission[] Permissions, bool Removal);
