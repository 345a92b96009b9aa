// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// Thin syscall wrappers. Each returns a non-negative value on success and
// -errno on failure (result.h). Every socket they create is non-blocking and
// close-on-exec, and never raises SIGPIPE (MSG_NOSIGNAL on Linux,
// SO_NOSIGPIPE elsewhere). No policy lives here: retries, timeouts and error
// shaping are done by the reactor or in TypeScript.
//
// Thread rules: all functions are thread-safe syscalls; the reactor calls
// them on its JS thread only.

#ifndef NETPOLL_NATIVE_SOCKET_H_
#define NETPOLL_NATIVE_SOCKET_H_

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <string>

namespace netpoll {

// Address families understood by the wrappers, mirrored in src/layout.ts.
enum SocketFamily : int {
  kFamilyIPv4 = 4,
  kFamilyIPv6 = 6,
  kFamilyUnix = 1,
};

// A parsed endpoint: an IP literal and port, or a filesystem path.
struct Endpoint {
  SocketFamily family;
  std::string host;  // numeric IP literal or Unix path
  int port;
};

// Creates, binds and listens. TCP listeners get SO_REUSEADDR, and SO_REUSEPORT when
// `reuse_port` is set (one listener per worker thread on the same port). Returns the fd.
int ListenSocket(const Endpoint& endpoint, int backlog, bool reuse_port);

// Duplicates a listening socket (F_DUPFD_CLOEXEC) so another reactor in this
// process can accept from the same accept queue through a descriptor it owns
// and closes on its own. The copy shares the open file description, so it is
// non-blocking too. Returns the new fd, -ENOTSOCK, or -EINVAL when `fd` is not
// a listening socket.
int DuplicateListenSocket(int fd);

// Accepts one connection (accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC where
// available). Returns the new fd, or -EAGAIN when none is pending.
int AcceptSocket(int listen_fd);

// Starts a non-blocking connect. Returns the fd; the connect completes when
// the fd becomes writable (check PendingSocketError then). Immediate failures
// (for example ECONNREFUSED or ENOENT on a Unix path) are returned as -errno.
int ConnectSocket(const Endpoint& endpoint);

// Returns the pending SO_ERROR as 0 or -errno.
int PendingSocketError(int fd);

// TCP_NODELAY on; a no-op success on non-TCP sockets.
int SetNoDelay(int fd);

// Enables TCP keep-alive with idle = interval = `seconds` (netpoll's
// SetIdleTimeout); `seconds` <= 0 disables it.
int SetKeepAlive(int fd, int seconds);

// recv() once (a socket). Returns bytes read, 0 at EOF, or -errno.
ssize_t ReadSome(int fd, void* buffer, size_t length);

// Vectored send without SIGPIPE. Returns bytes written or -errno.
ssize_t WriteVector(int fd, const struct iovec* vectors, int count);

// Formats the local or peer address as "ip:port", "[ip6]:port" or the Unix
// path. Returns the family (SocketFamily) or -errno.
int SocketAddress(int fd, bool peer, std::string* out);

// shutdown(SHUT_WR): the peer reads EOF after the bytes already queued.
// Returns 0 or -errno.
int ShutdownWrite(int fd);

// Bytes this end queued and the peer has not acknowledged yet (Linux
// SIOCOUTQ: for TCP, unacknowledged bytes and a FIN not yet acknowledged; for
// Unix sockets, bytes the peer has not read). Platforms without such a count
// report unsent bytes (SO_NWRITE, FIONWRITE) or 0. Returns the count or -errno.
int UnacknowledgedBytes(int fd);

// Bytes received and not yet read (FIONREAD). Returns the count or -errno.
int UnreadBytes(int fd);

// close() once; EINTR is not retried (the fd is gone either way on Linux).
int CloseSocket(int fd);

// True for a Unix-domain socket.
bool IsUnixSocket(int fd);

// Makes the next close() of `fd` abortive (SO_LINGER 0): the kernel drops what
// it still holds for the peer and sends RST, so the peer sees a reset, not an
// EOF after a stream cut short. Returns 0 or -errno.
int AbortOnClose(int fd);

}  // namespace netpoll

#endif  // NETPOLL_NATIVE_SOCKET_H_
