#define _GNU_SOURCE
#include "CLinux.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int dfl_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int dfl_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev) < 0 ? -errno : 0;
}
int dfl_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) { return dfl_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, events, data); }
int dfl_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data) { return dfl_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, events, data); }
int dfl_epoll_del(int epfd, int fd) { return dfl_epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0, 0); }

int dfl_epoll_wait(int epfd, uint64_t *datas, uint32_t *masks, int max, int timeout_ms) {
    struct epoll_event evs[1024];
    if (max > 1024) max = 1024;
    int n;
    n = epoll_wait(epfd, evs, max, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) { datas[i] = evs[i].data.u64; masks[i] = evs[i].events; }
    return n;
}

int dfl_accept(int listen_fd, char *addr, size_t addr_len, int *is_loopback) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return -errno;
    int loop = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        loop = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        if (addr && addr_len) inet_ntop(AF_INET, &in->sin_addr, addr, (socklen_t)addr_len);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        loop = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) loop = in6->sin6_addr.s6_addr[12] == 127;
        if (addr && addr_len) inet_ntop(AF_INET6, &in6->sin6_addr, addr, (socklen_t)addr_len);
    } else if (addr && addr_len) {
        addr[0] = 0;
    }
    if (is_loopback) *is_loopback = loop;
    return fd;
}

int dfl_peer_name(int fd, char *out, size_t out_len) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (out_len == 0) return -EINVAL;
    out[0] = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
    char ip[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, out_len, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, out_len, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
    }
    return 0;
}

int dfl_eventfd(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}
int dfl_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof one);
    return (n == sizeof one || errno == EAGAIN) ? 0 : -errno;
}
int dfl_eventfd_drain(int fd) {
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof v);
    return n < 0 ? (errno == EAGAIN ? 0 : -errno) : 0;
}

static int resolve(const char *host, int port, int passive, struct addrinfo **out) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    if (host && strcmp(host, "localhost") != 0) hints.ai_flags |= AI_NUMERICHOST;
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    int rc = getaddrinfo(host && host[0] ? host : NULL, portbuf, &hints, out);
    return rc == 0 ? 0 : -EADDRNOTAVAIL;
}

int dfl_listen_tcp(const char *host, int port, int reuse_port, int backlog, int *bound_port) {
    struct addrinfo *res;
    int rc = resolve(host, port, 1, &res);
    if (rc < 0) return rc;
    int fd = -1, err = EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) { err = errno; continue; }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
            err = errno; close(fd); fd = -1; continue;
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return -err;
    if (bound_port) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &len);
        *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                               : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    return fd;
}

/// Connects to the first address of `host` that takes the connection; with `nonblocking`, a
/// connect still in progress (EINPROGRESS) counts. Returns the fd (TCP_NODELAY) or -errno.
static int connect_tcp(const char *host, int port, int nonblocking) {
    struct addrinfo *res;
    int rc = resolve(host, port, 0, &res);
    if (rc < 0) return rc;
    int fd = -1, err = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), ai->ai_protocol);
        if (fd < 0) { err = errno; continue; }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || (nonblocking && errno == EINPROGRESS)) break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return -err;
    dfl_set_nodelay(fd);
    return fd;
}

int dfl_connect_tcp(const char *host, int port) { return connect_tcp(host, port, 0); }

int dfl_connect_tcp_nonblocking(const char *host, int port) { return connect_tcp(host, port, 1); }

int dfl_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

long dfl_raise_nofile_limit(long want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return -errno;
    if ((long)rl.rlim_cur >= want) return (long)rl.rlim_cur;
    struct rlimit up = { (rlim_t)want, rl.rlim_max > (rlim_t)want ? rl.rlim_max : (rlim_t)want };
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) return want;
    up.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
    up.rlim_max = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) return (long)up.rlim_cur;
    return (long)rl.rlim_cur;
}

int dfl_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ? -errno : 0;
}

int dfl_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -errno;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0;
}

static volatile sig_atomic_t shutdown_count = 0;
static volatile int shutdown_wake_fd = -1;

static void on_shutdown_signal(int sig) {
    (void)sig;
    int saved = errno;
    shutdown_count++;
    int fd = shutdown_wake_fd;
    if (fd >= 0) { uint64_t one = 1; ssize_t r = write(fd, &one, sizeof one); (void)r; }
    errno = saved;
}

int dfl_install_shutdown_signals(int wake_fd) {
    shutdown_wake_fd = wake_fd;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_shutdown_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) < 0) return -errno;
    if (sigaction(SIGINT, &sa, NULL) < 0) return -errno;
    return 0;
}
int dfl_shutdown_signal_count(void) { return (int)shutdown_count; }

int64_t dfl_monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
int64_t dfl_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
int64_t dfl_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long pages = 0, resident = 0;
    int n = fscanf(f, "%ld %ld", &pages, &resident);
    fclose(f);
    return n == 2 ? (int64_t)resident * sysconf(_SC_PAGESIZE) : -1;
}

#include <pthread.h>
int dfl_set_thread_name(const char *name) {
    char buf[16];
    snprintf(buf, sizeof buf, "%s", name);
    return -pthread_setname_np(pthread_self(), buf);
}

#include <linux/futex.h>
#include <sys/syscall.h>
int dfl_futex_wait(uint32_t *addr, uint32_t expected, int timeout_ms) {
    struct timespec ts, *tp = NULL;
    if (timeout_ms >= 0) { ts.tv_sec = timeout_ms / 1000; ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000; tp = &ts; }
    long rc = syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, tp, NULL, 0);
    return rc < 0 ? -errno : 0;
}
int dfl_futex_wake(uint32_t *addr, int count) {
    long rc = syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
    return rc < 0 ? -errno : (int)rc;
}

int64_t dfl_heap_in_use_bytes(void) {
    struct mallinfo2 mi = mallinfo2();
    return (int64_t)(mi.uordblks + mi.hblkhd);
}

int dfl_heap_trim(void) { return malloc_trim(0); }

void dfl_heap_keep_freed(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int64_t dfl_heap_free_bytes(void) {
    struct mallinfo2 mi = mallinfo2();
    return (int64_t)mi.fordblks;
}
