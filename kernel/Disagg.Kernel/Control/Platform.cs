// The kernel runs on Linux only (memfd, eventfd, SCM_RIGHTS, POSIX signals).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
