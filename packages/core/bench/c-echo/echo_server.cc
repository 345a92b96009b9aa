// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// The C floor of bench/core.bench.ts (the floor the targets compare against): a plain epoll
// length-header echo server, written the way an ordinary C server would be,
// so that "@netpoll/core costs N× the floor" means something. A frame is a
// 4-byte big-endian length and that many payload bytes; the reply is the
// identical frame.
//
//   netpoll_c_echo [MAX_FRAME=1048576]
//
// Listens on 127.0.0.1 (a kernel-chosen port, printed as one line on
// stdout), and exits on SIGTERM or when stdin reaches end of file (the bench
// closes it, and so does the parent's death), so it never outlives the bench.
//
// What it does per connection, deliberately nothing more: level-triggered
// epoll, nonblocking accept4, TCP_NODELAY; one read() per readiness event
// into the connection's own buffer; every complete frame of that read leaves
// in one write(); a partial frame stays in the buffer for the next read. A
// write that cannot finish (EAGAIN) keeps the rest, waits for EPOLLOUT and
// stops reading meanwhile. EOF or an error closes the connection, and so
// does an announced length above MAX_FRAME. No busy polling, no io_uring, no
// batching across connections. Linux only; a benchmark tool, never shipped.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr size_t kHeader = 4;
// The same bound as one reactor read (ReactorLimits::read_size), so both
// servers take a pipelined burst in as many reads. malloc'd, not zeroed:
// pages an idle connection never reads into cost no memory.
constexpr size_t kInitialBuffer = 64 << 10;
constexpr int kMaxEvents = 1024;

struct Connection {
  int fd = -1;
  uint8_t* input = nullptr;  // bytes [0, used) are unparsed input
  size_t capacity = 0;       // grows to fit one whole frame
  size_t used = 0;
  std::vector<uint8_t> output;  // bytes [sent, size) still to write
  size_t sent = 0;
};

uint32_t ReadLength(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

void Watch(int epoll_fd, int operation, Connection* connection, uint32_t events) {
  struct epoll_event event {};
  event.events = events;
  event.data.ptr = connection;
  epoll_ctl(epoll_fd, operation, connection->fd, &event);
}

void Close(Connection* connection) {
  close(connection->fd);  // also removes it from the epoll set
  std::free(connection->input);
  delete connection;
}

// Writes `length` bytes, keeping what the socket does not take. Returns
// false when the connection failed.
bool Send(int epoll_fd, Connection* connection, const uint8_t* data, size_t length) {
  ssize_t written = write(connection->fd, data, length);
  if (written < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    written = 0;
  }
  if (static_cast<size_t>(written) == length) return true;
  connection->output.assign(data + written, data + length);
  connection->sent = 0;
  Watch(epoll_fd, EPOLL_CTL_MOD, connection, EPOLLOUT);
  return true;
}

// EPOLLOUT: writes what is left; reading resumes once it is all gone.
bool Flush(int epoll_fd, Connection* connection) {
  while (connection->sent < connection->output.size()) {
    ssize_t written = write(connection->fd, connection->output.data() + connection->sent,
                            connection->output.size() - connection->sent);
    if (written < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    connection->sent += static_cast<size_t>(written);
  }
  connection->output.clear();
  connection->sent = 0;
  Watch(epoll_fd, EPOLL_CTL_MOD, connection, EPOLLIN);
  return true;
}

// One read, then one write of every complete frame. Returns false when the
// connection is to be closed (EOF, error, oversized frame).
bool Receive(int epoll_fd, Connection* connection, uint32_t max_frame) {
  if (connection->input == nullptr) {
    connection->input = static_cast<uint8_t*>(std::malloc(kInitialBuffer));
    if (connection->input == nullptr) return false;
    connection->capacity = kInitialBuffer;
  }
  uint8_t* input = connection->input;
  ssize_t count = read(connection->fd, input + connection->used, connection->capacity - connection->used);
  if (count == 0) return false;
  if (count < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  connection->used += static_cast<size_t>(count);
  size_t complete = 0;
  size_t next_frame = 0;  // size of the first incomplete frame, when known
  while (connection->used - complete >= kHeader) {
    uint32_t length = ReadLength(input + complete);
    if (length > max_frame) return false;
    if (connection->used - complete - kHeader < length) {
      next_frame = kHeader + length;
      break;
    }
    complete += kHeader + length;
  }
  if (complete > 0 && !Send(epoll_fd, connection, input, complete)) return false;
  // Keep the partial frame at the front; make room for a frame larger than
  // the buffer.
  size_t rest = connection->used - complete;
  if (complete > 0 && rest > 0) memmove(input, input + complete, rest);
  connection->used = rest;
  if (next_frame > connection->capacity) {
    auto* grown = static_cast<uint8_t*>(std::realloc(input, next_frame));
    if (grown == nullptr) return false;
    connection->input = grown;
    connection->capacity = next_frame;
  }
  return true;
}

int ListenLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  struct sockaddr_in address {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 4096) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(address.sin_port);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const uint32_t max_frame = argc > 1 ? static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10))
                                      : 1u << 20;
  int port = 0;
  const int listener = ListenLoopback(&port);
  if (listener < 0) {
    std::perror("listen");
    return 1;
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  // The listener and stdin are told apart from connections by these tags.
  Connection listener_tag;
  listener_tag.fd = listener;
  Connection stdin_tag;
  stdin_tag.fd = STDIN_FILENO;
  Watch(epoll_fd, EPOLL_CTL_ADD, &listener_tag, EPOLLIN);
  Watch(epoll_fd, EPOLL_CTL_ADD, &stdin_tag, EPOLLIN);
  std::printf("%d\n", port);
  std::fflush(stdout);

  std::vector<struct epoll_event> events(kMaxEvents);
  for (;;) {
    int ready = epoll_wait(epoll_fd, events.data(), kMaxEvents, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      std::perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < ready; ++i) {
      auto* connection = static_cast<Connection*>(events[static_cast<size_t>(i)].data.ptr);
      const uint32_t mask = events[static_cast<size_t>(i)].events;
      if (connection == &stdin_tag) {
        char byte;
        if (read(STDIN_FILENO, &byte, 1) <= 0) return 0;  // EOF: the bench is done
        continue;
      }
      if (connection == &listener_tag) {
        for (;;) {
          int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            break;  // EAGAIN, or out of descriptors: try again on the next event
          }
          int on = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
          auto* accepted = new Connection();
          accepted->fd = fd;
          Watch(epoll_fd, EPOLL_CTL_ADD, accepted, EPOLLIN);
        }
        continue;
      }
      bool open = true;
      if (!connection->output.empty()) {
        open = (mask & EPOLLOUT) == 0 || Flush(epoll_fd, connection);
        if (open && (mask & (EPOLLHUP | EPOLLERR))) open = false;
      } else if (mask & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        // A hang-up or error shows up as EOF or an error of this read.
        open = Receive(epoll_fd, connection, max_frame);
      }
      if (!open) Close(connection);
    }
  }
}
