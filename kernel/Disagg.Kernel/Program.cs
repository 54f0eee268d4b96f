// disagg-kernel: the hypervisor process. Until domains exist it offers the ELF runner only.
Console.Error.WriteLine("usage: disagg-kernel run-elf <file.elf> [--mem 64M] [--isa rv64|rv32] [--max-instructions N]");
return 2;
