/*
 * disagg-sandbox: the supervisor starts every service domain through this launcher, which takes away what the
 * service does not need and then execs it. .NET cannot run code in a forked child before exec, hence a few lines of C.
 *
 *   disagg-sandbox [--syscalls FILE]... [--state DIR]... [--read PATH]... [--write-files PATH]...
 *                  [--make-socket DIR]... [--device PATH]... [--keep-cap N]... [--pid-namespace]
 *                  -- PROGRAM [ARGS...]
 *
 * In order:
 *  1. every inherited descriptor above stderr is closed (the daemon's sockets and files stay with the daemon);
 *  2. its own mount namespace (as root; otherwise inside a new user namespace when the kernel allows one), in
 *     which every mount is read-only, nosuid and nodev except the --state and --make-socket dirs and the
 *     --write-files paths (everything, for --write-files /);
 *     with --pid-namespace, a PID namespace too (see below);
 *  3. as root, every capability but the --keep-cap ones leaves the bounding set, so root's exec regains nothing;
 *  4. Landlock: --state DIR may do anything but execute beneath DIR; --read PATH read; --write-files PATH read
 *     and write existing files; --make-socket DIR bind sockets (and remove stale ones); --device PATH read,
 *     write and ioctl; PROGRAM (and its ELF interpreter) execute; nothing else, no TCP, no signals or abstract
 *     sockets outside the sandbox;
 *  5. no-new-privs and a seccomp filter allowing only the system calls named in the --syscalls files (one name a
 *     line, '#' comments); any other kills the process with SIGSYS, which the supervisor logs and restarts.
 * A missing kernel feature (no Landlock, no user namespaces) is said once on stderr and the rest still applies.
 *
 * Without --pid-namespace the launcher execs the service under its own pid. With it, a PID namespace needs a
 * parent that stays outside it, and its first process (pid 1) is special: a signal from outside reaches it only
 * when it has a handler (SIGKILL and SIGSTOP excepted), and signals it sends itself with no handler are dropped, so
 * a SIGSEGV or SIGTERM the supervisor sends would be lost on a .NET service there. So three processes:
 *    launcher (the supervisor's child, outside) -> init (pid 1 inside: reaps, waits) -> service (pid 2, exec'd)
 * The supervisor signals the service itself (it finds its pid as the launcher's grandchild, whose comm is no
 * longer "disagg-sandbox"); the service's exit status travels up unchanged (a signal's death as 128 + signal, as
 * a shell reports it), and if the launcher dies the init and with it the whole namespace die (PR_SET_PDEATHSIG).
 * init mounts a /proc of the namespace: the service sees its own processes only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct syscall_name { const char *name; int nr; };
static const struct syscall_name syscall_names[] = {
#include "syscall-names.h"
};

#define MAX_PATHS 64
#define MAX_SYSCALLS 512

static const char *state_dirs[MAX_PATHS], *read_paths[MAX_PATHS], *write_paths[MAX_PATHS];
static const char *socket_dirs[MAX_PATHS], *device_paths[MAX_PATHS];
static int n_state, n_read, n_write, n_socket, n_device;
static int allowed[MAX_SYSCALLS], n_allowed;
static uint64_t keep_caps;
static int pid_namespace; /* asked for with --pid-namespace, and entered */

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "disagg-sandbox: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(errno));
    exit(126);
}

static void usage(const char *why)
{
    fprintf(stderr, "disagg-sandbox: %s\nusage: disagg-sandbox [--syscalls FILE]... [--state DIR]... [--read PATH]... "
                    "[--write-files PATH]... [--make-socket DIR]... [--device PATH]... [--keep-cap N]... -- PROGRAM [ARGS...]\n", why);
    exit(125);
}

static void add_path(const char **list, int *n, const char *path)
{
    if (*n == MAX_PATHS)
        usage("too many paths");
    list[(*n)++] = path;
}

static void read_syscalls(const char *file)
{
    FILE *f = fopen(file, "re");
    if (!f)
        die("cannot read", file);
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char name[64];
        if (sscanf(line, " %63s", name) != 1)
            continue;
        int nr = -1;
        for (size_t i = 0; i < sizeof syscall_names / sizeof syscall_names[0]; i++)
            if (strcmp(syscall_names[i].name, name) == 0)
                nr = syscall_names[i].nr;
        if (nr < 0) {
            fprintf(stderr, "disagg-sandbox: %s:%d: no system call '%s' on this machine\n", file, lineno, name);
            exit(125);
        }
        if (n_allowed == MAX_SYSCALLS)
            usage("too many system calls");
        allowed[n_allowed++] = nr;
    }
    fclose(f);
}

/* 1. The daemon marks its descriptors close-on-exec, but a library may not: close what the service did not open. */
static void close_inherited(void)
{
    if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
        die("close_range", NULL);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int set_mount_attr(const char *path, uint64_t set, uint64_t clear)
{
    struct mount_attr attr = { .attr_set = set, .attr_clr = clear };
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr);
}

/* 2. A mount namespace of its own: the host's file systems read-only for the service, its state dirs writable. */
static void enter_mount_namespace(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    int flags = geteuid() == 0 ? CLONE_NEWNS : CLONE_NEWUSER | CLONE_NEWNS;
    if (pid_namespace && unshare(flags | CLONE_NEWPID) != 0) {
        fprintf(stderr, "disagg-sandbox: no PID namespace (%s); the service shares the host's\n", strerror(errno));
        pid_namespace = 0;
    } else if (pid_namespace) {
        flags = 0; /* entered with it */
    }
    if (flags != 0 && unshare(flags) != 0) {
        fprintf(stderr, "disagg-sandbox: no mount namespace (%s); Landlock and seccomp still apply\n", strerror(errno));
        return;
    }
    if (geteuid() != 0 || uid != 0) {
        /* In the new user namespace the service keeps its own uid and gid (files stay its own). */
        char map[64];
        snprintf(map, sizeof map, "%u %u 1\n", uid, uid);
        if (write_file("/proc/self/uid_map", map) != 0 || write_file("/proc/self/setgroups", "deny") != 0)
            die("user namespace uid map", NULL);
        snprintf(map, sizeof map, "%u %u 1\n", gid, gid);
        if (write_file("/proc/self/gid_map", map) != 0)
            die("user namespace gid map", NULL);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        die("making / private", NULL);
    int everything_writable = 0;
    for (int i = 0; i < n_write; i++)
        everything_writable |= strcmp(write_paths[i], "/") == 0;
    /* The dirs it writes in (its state, where it binds its socket) and the files it writes (a qemu-dm's disks)
       become mounts of their own, left writable. */
    const char *writable[3 * MAX_PATHS];
    int n_writable = 0;
    for (int i = 0; i < n_socket; i++)
        writable[n_writable++] = socket_dirs[i];
    for (int i = 0; i < n_state; i++)
        writable[n_writable++] = state_dirs[i];
    for (int i = 0; i < n_write; i++)
        if (strcmp(write_paths[i], "/") != 0)
            writable[n_writable++] = write_paths[i];
    for (int i = 0; i < n_writable; i++)
        if (mount(writable[i], writable[i], NULL, MS_BIND | MS_REC, NULL) != 0)
            die("bind mount of", writable[i]);
    uint64_t locked = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (everything_writable ? 0 : MOUNT_ATTR_RDONLY);
    if (set_mount_attr("/", locked, 0) != 0)
        die("read-only mounts", NULL);
    /* Devices the service was given live on /dev, which keeps its device nodes working. */
    for (int i = 0; i < n_device; i++)
        if (strncmp(device_paths[i], "/dev", 4) == 0 && set_mount_attr("/dev", 0, MOUNT_ATTR_NODEV) != 0)
            die("device mount", "/dev");
    for (int i = 0; i < n_writable; i++)
        if (set_mount_attr(writable[i], 0, MOUNT_ATTR_RDONLY) != 0)
            die("writable mount", writable[i]);
}

/* 3. Root keeps only the capabilities asked for: dropped from the bounding set, exec cannot give them back. */
static void drop_capabilities(void)
{
    if (geteuid() != 0)
        return;
    for (int cap = 0; cap <= 63; cap++) {
        if (keep_caps & (1ULL << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            die("dropping capabilities", NULL);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        die("clearing ambient capabilities", NULL);
}

#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#define FS_FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
                        LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

static uint64_t handled_fs;

static void allow(int ruleset, const char *path, uint64_t rights)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return; /* /lib64 on a merged-/usr system, a dotnet root that is not there */
        die("landlock path", path);
    }
    struct landlock_path_beneath_attr rule = { .allowed_access = rights & handled_fs, .parent_fd = fd };
    /* A file (not a directory) takes file rights only. */
    int is_dir = 0;
    int probe = openat(fd, ".", O_PATH | O_CLOEXEC | O_DIRECTORY);
    if (probe >= 0) {
        is_dir = 1;
        close(probe);
    }
    if (!is_dir)
        rule.allowed_access &= FS_FILE_RIGHTS;
    if (rule.allowed_access != 0 && syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
        die("landlock rule for", path);
    close(fd);
}

/*
 * The files the kernel execs for PROGRAM besides itself: the ELF interpreter, and for a script (a swapped-in
 * service may be one) the interpreter its #! line names. Nothing else may be executed.
 */
static void allow_interpreter(int ruleset, const char *program)
{
    static const char *interpreters[] = { "/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1" };
    for (size_t i = 0; i < sizeof interpreters / sizeof interpreters[0]; i++)
        allow(ruleset, interpreters[i], LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE);
    FILE *f = fopen(program, "re");
    if (!f)
        return; /* exec will say why */
    char line[256] = { 0 };
    if (fgets(line, sizeof line, f) && line[0] == '#' && line[1] == '!') {
        char interpreter[256];
        if (sscanf(line + 2, " %255s", interpreter) == 1)
            allow(ruleset, interpreter, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE);
    }
    fclose(f);
}

/* 4. Landlock: what the service may reach in the file system, over TCP and by signal. */
static void restrict_paths(const char *program)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        fprintf(stderr, "disagg-sandbox: no Landlock in this kernel (%s); seccomp still applies\n", strerror(errno));
        return;
    }
    handled_fs = (1ULL << 13) - 1;
    if (abi >= 2)
        handled_fs |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        handled_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        handled_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    struct ruleset_attr attr = { .handled_access_fs = handled_fs };
    size_t size = offsetof(struct ruleset_attr, handled_access_net);
    if (abi >= 4) {
        attr.handled_access_net = 3; /* LANDLOCK_ACCESS_NET_BIND_TCP | CONNECT_TCP, and no rule allows either */
        size = offsetof(struct ruleset_attr, scoped);
    }
    if (abi >= 6) {
        attr.scoped = 3; /* LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL */
        size = sizeof attr;
    }
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0)
        die("landlock ruleset", NULL);
    uint64_t everything_but_exec = handled_fs & ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE;
    for (int i = 0; i < n_state; i++)
        allow(ruleset, state_dirs[i], everything_but_exec);
    for (int i = 0; i < n_read; i++)
        allow(ruleset, read_paths[i], FS_READ);
    for (int i = 0; i < n_write; i++)
        allow(ruleset, write_paths[i], FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE);
    for (int i = 0; i < n_socket; i++)
        allow(ruleset, socket_dirs[i], LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_REMOVE_FILE);
    for (int i = 0; i < n_device; i++)
        allow(ruleset, device_paths[i], FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_IOCTL_DEV);
    allow(ruleset, program, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE);
    allow_interpreter(ruleset, program);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("no-new-privs", NULL);
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
        die("landlock_restrict_self", NULL);
    close(ruleset);
}

/* 5. The allow-list as a classic BPF program: right architecture, one of the listed numbers, or the process dies. */
static void install_seccomp(const int *list, int count)
{
    size_t n = 0, cap = 6 + 2 * (size_t)count;
    struct sock_filter *f = calloc(cap, sizeof *f);
    if (!f)
        die("allocating the filter", NULL);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < count; i++) {
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)list[i], 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    /* DISAGG_SANDBOX_AUDIT=1 (tools/sandbox-syscalls.sh): a call outside the list is allowed and logged (dmesg). */
    const char *audit = getenv("DISAGG_SANDBOX_AUDIT");
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, audit && strcmp(audit, "1") == 0 ? SECCOMP_RET_LOG : SECCOMP_RET_KILL_PROCESS);
    struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("no-new-privs", NULL);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        die("seccomp", NULL);
}

/* The namespace's init: nothing but waiting. Its own allow-list is what that takes. */
static const int init_syscalls[] = { SYS_wait4, SYS_exit_group, SYS_exit, SYS_rt_sigreturn, SYS_rt_sigaction };

/* A child's end as an exit code: its own, or 128 + the signal that ended it (what a shell says, and the supervisor reads). */
static int exit_code_of(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 126;
}

/* Waits for `child` (reaping any other process that ends in the meantime) and returns how it ended. */
static int wait_for(pid_t child)
{
    for (;;) {
        int status;
        pid_t done = waitpid(-1, &status, 0);
        if (done == child)
            return exit_code_of(status);
        if (done < 0 && errno != EINTR)
            return 126;
    }
}

/* Dies with `parent`; false when it is already gone (the signal would never come). */
static int die_with(pid_t parent)
{
    return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0 && getppid() == parent;
}

/*
 * --pid-namespace: the launcher stays outside as the supervisor's child; its child is pid 1 inside (init), whose
 * child becomes the service. Returns in the service's process (the caller sandboxes and execs it); the launcher and
 * init exit here with the service's exit code.
 */
static void fork_into_pid_namespace(void)
{
    const char *die_with_daemon = getenv("DISAGG_DIE_WITH_PARENT");
    if (die_with_daemon && strcmp(die_with_daemon, "1") == 0 && !die_with(getppid()))
        exit(126);
    /* The launcher holds this pipe's write end until it dies: init, which cannot see its parent's pid (getppid is 0
       across the namespace), knows it is still there when the read end has not hung up. */
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) != 0)
        die("pipe", NULL);
    pid_t init = fork();
    if (init < 0)
        die("fork", NULL);
    if (init > 0) {
        close(alive[0]);
        exit(wait_for(init));
    }
    close(alive[1]);
    struct pollfd hung = { .fd = alive[0], .events = POLLIN };
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || poll(&hung, 1, 0) != 0)
        _exit(126);
    close(alive[0]);
    /* A /proc of this namespace, read-only as the rest: the service sees its own processes, not the host's. */
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) != 0)
        fprintf(stderr, "disagg-sandbox: /proc of the PID namespace not mounted (%s); the host's stays\n", strerror(errno));
    pid_t service = fork();
    if (service < 0)
        die("fork", NULL);
    if (service == 0)
        return;
    drop_capabilities();
    install_seccomp(init_syscalls, (int)(sizeof init_syscalls / sizeof init_syscalls[0]));
    _exit(wait_for(service));
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--pid-namespace") == 0) {
            pid_namespace = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage("an option needs a value");
        const char *v = argv[++i];
        if (strcmp(a, "--syscalls") == 0)
            read_syscalls(v);
        else if (strcmp(a, "--state") == 0)
            add_path(state_dirs, &n_state, v);
        else if (strcmp(a, "--read") == 0)
            add_path(read_paths, &n_read, v);
        else if (strcmp(a, "--write-files") == 0)
            add_path(write_paths, &n_write, v);
        else if (strcmp(a, "--make-socket") == 0)
            add_path(socket_dirs, &n_socket, v);
        else if (strcmp(a, "--device") == 0)
            add_path(device_paths, &n_device, v);
        else if (strcmp(a, "--keep-cap") == 0) {
            int cap = atoi(v);
            if (cap < 0 || cap > 63)
                usage("--keep-cap takes a capability number 0..63");
            keep_caps |= 1ULL << cap;
        } else
            usage("unknown option");
    }
    if (i >= argc)
        usage("no program after --");
    if (n_allowed == 0)
        usage("no --syscalls allow-list: a service without one is not started");
    const char *program = argv[i];
    close_inherited();
    enter_mount_namespace();
    if (pid_namespace)
        fork_into_pid_namespace();
    drop_capabilities();
    restrict_paths(program);
    install_seccomp(allowed, n_allowed);
    execv(program, argv + i);
    die("exec", program);
}
