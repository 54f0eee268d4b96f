using Disagg.Xenstored.Core;

namespace Disagg.Xenstored.Watches;

/// <summary>
/// A registered watch: fires for changes at <see cref="Path"/> or below it, echoing
/// <see cref="Token"/>. A watch set with a relative path reports relative paths, as Xen does.
/// </summary>
public sealed record Watch(XsConnection Owner, string Path, string Token, bool Relative);
