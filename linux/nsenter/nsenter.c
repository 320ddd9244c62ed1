// nsenter.c: the namespace step of "tincan-oci init", run before the Go
// runtime starts.
//
// Why C: setns(2) into a user or mount namespace requires a single-threaded
// caller, and unshare(CLONE_NEWUSER) too; the Go runtime has started several
// threads before any Go code runs. A constructor runs in the still
// single-threaded process, does the namespace work, and returns; the Go
// runtime then starts inside the namespaces. Everything else (mounts, user,
// capabilities, exec) is done in Go.
//
// The constructor does nothing unless _TINCAN_INIT_FD names the sync socket.
// Messages on that socket are framed as described in
// runtime/initproc/protocol.go: a 4-byte type, a 4-byte payload length (both
// native-endian) and the payload. This file reads one MSG_NSPLAN, whose
// payload is text, one directive per line:
//
//   J <nstype> <path>   join the namespace at path (nstype: CLONE_NEW* value)
//   U <flags>           unshare these CLONE_NEW* flags after joining
//   T <line>            write line to /proc/self/timens_offsets after unshare
//
// Order of work:
//  1. open every path to join (before any setns changes what paths mean);
//  2. setns each non-user namespace, deferring those that fail with EPERM
//     (they may be owned by the user namespace we are about to join), then
//     the user namespace, then the deferred ones;
//  3. unshare(CLONE_NEWUSER) alone if asked, then ask the parent to write the
//     id maps (MSG_USERNS_MAP_REQUEST / MSG_USERNS_MAP_DONE), because the
//     other new namespaces must be owned by the new user namespace;
//  4. become root (uid/gid 0) in the user namespace we are now in, so that
//     the mounts and files the init makes are owned by the mapped root;
//  5. unshare the remaining flags and write the time offsets;
//  6. a new or joined pid or time namespace applies only to children, so
//     clone a child with CLONE_PARENT (it becomes a child of tincan-oci, not
//     of this process) that continues into Go; this process reports the
//     child's pid and exits. Otherwise report our own pid and continue.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

// Message types; keep in step with runtime/initproc/protocol.go.
enum {
	MSG_NSPLAN = 1,
	MSG_USERNS_MAP_REQUEST = 2,
	MSG_USERNS_MAP_DONE = 3,
	MSG_INIT_PID = 4,
	MSG_ERROR = 5,
};

#define MAX_JOINS 16
#define PLAN_MAX 8192

// nsenter_ran is read by Go to check that this constructor ran (it does not
// when the binary is linked without the external linker).
int tincan_nsenter_ran;

static int sync_fd = -1;

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_msg(uint32_t type, const char *payload, uint32_t len)
{
	uint32_t hdr[2] = { type, len };
	if (write_full(sync_fd, hdr, sizeof(hdr)) < 0)
		return -1;
	return len ? write_full(sync_fd, payload, len) : 0;
}

// recv_msg reads one message of the wanted type into buf (NUL-terminated).
// A closed socket means the parent went away: exit quietly.
static void recv_msg(uint32_t want, char *buf, uint32_t cap)
{
	uint32_t hdr[2];
	if (read_full(sync_fd, hdr, sizeof(hdr)) < 0)
		_exit(1);
	if (hdr[0] != want || hdr[1] >= cap)
		_exit(1);
	if (hdr[1] && read_full(sync_fd, buf, hdr[1]) < 0)
		_exit(1);
	buf[hdr[1]] = '\0';
}

// bail reports the failed step and errno to the parent and exits.
static void bail(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof(msg) && saved != 0)
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(saved));
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	send_msg(MSG_ERROR, msg, (uint32_t)n);
	_exit(1);
}

static const char *ns_name(int type)
{
	switch (type) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNET: return "network";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	}
	return "unknown";
}

struct join {
	int type;
	int fd;
	const char *path;
	int done;
};

static void become_root(void)
{
	// setgroups is denied in user namespaces made without privilege; the
	// Go init sets the final groups when it is allowed to.
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		bail("setgroups in user namespace");
	if (setresgid(0, 0, 0) < 0)
		bail("setresgid(0) in user namespace (is gid 0 mapped?)");
	if (setresuid(0, 0, 0) < 0)
		bail("setresuid(0) in user namespace (is uid 0 mapped?)");
}

static void join_namespaces(struct join *joins, int n)
{
	int user = -1;
	for (int i = 0; i < n; i++) {
		joins[i].fd = open(joins[i].path, O_RDONLY | O_CLOEXEC);
		if (joins[i].fd < 0)
			bail("open %s namespace %s", ns_name(joins[i].type), joins[i].path);
		if (joins[i].type == CLONE_NEWUSER)
			user = i;
	}
	for (int i = 0; i < n; i++) {
		if (i == user)
			continue;
		if (setns(joins[i].fd, joins[i].type) == 0)
			joins[i].done = 1;
		else if (errno != EPERM || user < 0)
			bail("join %s namespace %s", ns_name(joins[i].type), joins[i].path);
	}
	if (user >= 0) {
		if (setns(joins[user].fd, CLONE_NEWUSER) < 0)
			bail("join user namespace %s", joins[user].path);
		joins[user].done = 1;
		become_root();
	}
	for (int i = 0; i < n; i++) {
		if (!joins[i].done && setns(joins[i].fd, joins[i].type) < 0)
			bail("join %s namespace %s", ns_name(joins[i].type), joins[i].path);
		close(joins[i].fd);
	}
}

static void write_time_offsets(char **lines, int n)
{
	if (n == 0)
		return;
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		bail("open /proc/self/timens_offsets");
	for (int i = 0; i < n; i++) {
		// One write per line: the kernel parses each write separately.
		if (write_full(fd, lines[i], strlen(lines[i])) < 0)
			bail("write time offset \"%s\"", lines[i]);
	}
	close(fd);
}

static void report_pid(pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (send_msg(MSG_INIT_PID, buf, (uint32_t)n) < 0)
		_exit(1);
}

__attribute__((constructor)) static void tincan_nsenter(void)
{
	const char *env = getenv("_TINCAN_INIT_FD");
	if (env == NULL)
		return;
	tincan_nsenter_ran = 1;
	sync_fd = atoi(env);

	static char plan[PLAN_MAX];
	recv_msg(MSG_NSPLAN, plan, sizeof(plan));

	struct join joins[MAX_JOINS];
	char *offsets[8];
	int njoin = 0, noffset = 0;
	unsigned long unshare_flags = 0;
	int joined_pid_or_time = 0;

	char *save = NULL;
	for (char *line = strtok_r(plan, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == 'J' && line[1] == ' ') {
			char *path = NULL;
			long type = strtol(line + 2, &path, 10);
			if (njoin == MAX_JOINS || path == NULL || *path != ' ') {
				errno = EINVAL;
				bail("bad join directive \"%s\"", line);
			}
			joins[njoin].type = (int)type;
			joins[njoin].path = path + 1;
			joins[njoin].done = 0;
			if (type == CLONE_NEWPID || type == CLONE_NEWTIME)
				joined_pid_or_time = 1;
			njoin++;
		} else if (line[0] == 'U' && line[1] == ' ') {
			unshare_flags = strtoul(line + 2, NULL, 10);
		} else if (line[0] == 'T' && line[1] == ' ' && noffset < 8) {
			offsets[noffset++] = line + 2;
		} else {
			errno = EINVAL;
			bail("bad namespace plan line \"%s\"", line);
		}
	}

	join_namespaces(joins, njoin);

	if (unshare_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			bail("unshare user namespace");
		if (send_msg(MSG_USERNS_MAP_REQUEST, NULL, 0) < 0)
			_exit(1);
		char ack[8];
		recv_msg(MSG_USERNS_MAP_DONE, ack, sizeof(ack));
		become_root();
	}

	unsigned long rest = unshare_flags & ~(unsigned long)CLONE_NEWUSER;
	if (rest != 0 && unshare((int)rest) < 0)
		bail("unshare namespaces 0x%lx", rest);
	write_time_offsets(offsets, noffset);

	if (!(rest & (CLONE_NEWPID | CLONE_NEWTIME)) && !joined_pid_or_time) {
		report_pid(getpid());
		return;
	}

	// The child must be created after the pid/time namespace change. With
	// CLONE_PARENT its parent is tincan-oci, which can wait for it.
	pid_t child = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (child < 0)
		bail("clone init into the new pid namespace");
	if (child == 0)
		return;
	report_pid(child);
	_exit(0);
}
