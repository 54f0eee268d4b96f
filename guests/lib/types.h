/* Freestanding integer types; xlen_t is the register width (64 on RV64, 32 on RV32). */
#pragma once
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef unsigned long xlen_t;
typedef long sxlen_t;
typedef unsigned long uintptr_t;
typedef unsigned long size_t;
typedef long ssize_t;
#define XLEN __riscv_xlen
#define NULL ((void *)0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
