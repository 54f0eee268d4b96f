// disagg-kernel: the hypervisor process. Until domains exist it offers the ELF runner and the engine fuzzer.
using Disagg.Kernel.Runner;

return KernelCommand.Run(args);
