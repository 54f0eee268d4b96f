[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Disagg.Kernel.Cpu.Tests")]
