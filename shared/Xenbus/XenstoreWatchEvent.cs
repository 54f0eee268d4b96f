namespace Disagg.Xenbus;

/// <summary>XS_WATCH_EVENT: the path that changed (or the watched path itself, once, when the watch is set) and the watch's token.</summary>
public readonly record struct XenstoreWatchEvent(string Path, string Token);
