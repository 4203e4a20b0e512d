// Linux system calls that Glibc's Swift overlay does not export (epoll, accept4, eventfd), plus a
// few socket helpers whose sockaddr juggling is clearer in C. Every function returns -errno on error.
#ifndef DONGFENG_CLINUX_H
#define DONGFENG_CLINUX_H
#include <stdint.h>
#include <stddef.h>

// epoll event bits, as plain integers (the Glibc enum imports as a struct).
#define DFL_EPOLLIN 0x001u
#define DFL_EPOLLOUT 0x004u
#define DFL_EPOLLERR 0x008u
#define DFL_EPOLLHUP 0x010u
#define DFL_EPOLLRDHUP 0x2000u
#define DFL_EPOLLET (1u << 31)

int dfl_epoll_create(void);
int dfl_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int dfl_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int dfl_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data);
int dfl_epoll_del(int epfd, int fd);
/// Waits like epoll_wait, writing each ready event's data and mask into the two arrays (max ≤ 1024).
int dfl_epoll_wait(int epfd, uint64_t *datas, uint32_t *masks, int max, int timeout_ms);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; fills the peer's numeric address if `addr` is non-null.
int dfl_accept(int listen_fd, char *addr, size_t addr_len, int *is_loopback);
/// The peer address of a connected socket as "ip:port" ("[ip]:port" for IPv6); 0 or -errno.
int dfl_peer_name(int fd, char *out, size_t out_len);

int dfl_eventfd(void);
int dfl_eventfd_signal(int fd);
int dfl_eventfd_drain(int fd);

/// A non-blocking listening socket on host:port (numeric IPv4/IPv6 or "localhost"), SO_REUSEADDR,
/// optional SO_REUSEPORT. `bound_port` receives the port actually bound (useful with port 0).
int dfl_listen_tcp(const char *host, int port, int reuse_port, int backlog, int *bound_port);
/// A blocking client connection (tests and CLI tools); TCP_NODELAY set.
int dfl_connect_tcp(const char *host, int port);
int dfl_set_nodelay(int fd);
/// Raises RLIMIT_NOFILE towards `want` (the hard limit too when privileged); returns the soft
/// limit now in force.
long dfl_raise_nofile_limit(long want);
/// Starts a non-blocking connect (numeric hosts resolve at once); the socket is writable when
/// it is done, and dfl_socket_error then says how it went. Returns the fd or -errno.
int dfl_connect_tcp_nonblocking(const char *host, int port);
/// The pending error of a socket (SO_ERROR), 0 when none.
int dfl_socket_error(int fd);
int dfl_set_nonblocking(int fd, int on);

/// SIGPIPE ignored; SIGTERM and SIGINT write to `wake_fd` (an eventfd) and bump a counter.
int dfl_install_shutdown_signals(int wake_fd);
int dfl_shutdown_signal_count(void);

/// Monotonic milliseconds (CLOCK_MONOTONIC_COARSE: cheap, ~4 ms resolution, fine for timeouts).
int64_t dfl_monotonic_ms(void);
/// Monotonic nanoseconds (CLOCK_MONOTONIC), for latency measurements.
int64_t dfl_monotonic_ns(void);
/// Resident set size of this process in bytes (from /proc/self/statm), or -1.
int64_t dfl_rss_bytes(void);
/// Heap bytes in use by the process (glibc mallinfo2: small blocks + mmapped blocks), which
/// unlike RSS excludes memory freed but kept by malloc for reuse.
int64_t dfl_heap_in_use_bytes(void);
/// Hands free heap memory back to the kernel (glibc malloc_trim); returns 1 if any was.
int dfl_heap_trim(void);
/// Bytes malloc holds free in its arenas (glibc mallinfo2 fordblks): what a trim could return.
int64_t dfl_heap_free_bytes(void);
/// Keeps freed heap memory (even large blocks) for reuse instead of unmapping it: for batch
/// commands that allocate and free arrays of hundreds of MB in turn.
void dfl_heap_keep_freed(void);
/// Names the calling thread (≤ 15 chars shown by top/ps).
int dfl_set_thread_name(const char *name);

/// futex(2) on a 32-bit word: sleep while *addr == expected (timeout_ms < 0: no timeout).
int dfl_futex_wait(uint32_t *addr, uint32_t expected, int timeout_ms);
/// Wakes up to `count` waiters on addr.
int dfl_futex_wake(uint32_t *addr, int count);

#endif
