// disagg-kernel: the hypervisor process. Until domains exist it offers the ELF runner and the engine fuzzer.
using Disagg.Kernel.Runner;

if (Environment.GetEnvironmentVariable("DISAGG_DIE_WITH_PARENT") == "1") Disagg.Interop.ProcessSignals.DieWithParent(); // started by the host daemon: go when it goes

return KernelCommand.Run(args);
