// Copyright 2026 The netpoll-node Authors. Apache-2.0.
//
// A small epoll load generator for bench/core.bench.ts: N connections to 127.0.0.1:PORT, each
// keeping PIPELINE length-header frames of SIZE payload bytes in flight, until TOTAL replies
// arrived. Much cheaper per request than a node:net client, so the server under test, not the
// client, is the busy side. Linux only; a benchmark tool, never shipped in the addon.
//
//   netpoll_loadgen PORT CONNECTIONS TOTAL [PIPELINE=1] [SIZE=1024]

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

struct Client {
  int fd = -1;
  size_t pending_reply_bytes = 0;  // bytes of replies still expected
  int in_flight = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s PORT CONNECTIONS TOTAL [PIPELINE] [SIZE]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int connections = std::atoi(argv[2]);
  long remaining = std::atol(argv[3]);
  const int pipeline = argc > 4 ? std::atoi(argv[4]) : 1;
  const size_t size = argc > 5 ? static_cast<size_t>(std::atol(argv[5])) : 1024;
  long replies_left = remaining;

  std::vector<unsigned char> frame(4 + size, 7);
  frame[0] = static_cast<unsigned char>(size >> 24);
  frame[1] = static_cast<unsigned char>(size >> 16);
  frame[2] = static_cast<unsigned char>(size >> 8);
  frame[3] = static_cast<unsigned char>(size);
  std::vector<unsigned char> burst;
  for (int i = 0; i < pipeline; ++i) burst.insert(burst.end(), frame.begin(), frame.end());
  std::vector<unsigned char> sink(1 << 16);

  int epoll_fd = epoll_create1(0);
  std::vector<Client> clients(static_cast<size_t>(connections));
  struct sockaddr_in address {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < connections; ++i) {
    Client& client = clients[static_cast<size_t>(i)];
    client.fd = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(client.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (connect(client.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      std::perror("connect");
      return 1;
    }
    struct epoll_event event {};
    event.events = EPOLLIN;
    event.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, client.fd, &event);
  }
  auto send_burst = [&](Client& client) {
    int count = pipeline;
    if (count > remaining) count = static_cast<int>(remaining);
    if (count <= 0) return;
    remaining -= count;
    client.in_flight += count;
    client.pending_reply_bytes += static_cast<size_t>(count) * frame.size();
    size_t bytes = static_cast<size_t>(count) * frame.size();
    size_t sent = 0;
    while (sent < bytes) {
      ssize_t written = write(client.fd, burst.data() + sent, bytes - sent);
      if (written <= 0) {
        std::perror("write");
        std::exit(1);
      }
      sent += static_cast<size_t>(written);
    }
  };
  for (Client& client : clients) send_burst(client);
  std::vector<struct epoll_event> events(1024);
  while (replies_left > 0) {
    int ready = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 5000);
    if (ready <= 0) {
      std::fprintf(stderr, "stalled with %ld replies left\n", replies_left);
      return 1;
    }
    for (int i = 0; i < ready; ++i) {
      Client& client = clients[events[static_cast<size_t>(i)].data.u32];
      ssize_t count = read(client.fd, sink.data(), sink.size());
      if (count <= 0) {
        std::fprintf(stderr, "connection closed by server\n");
        return 1;
      }
      client.pending_reply_bytes -= static_cast<size_t>(count);
      // Whole replies received since the last read.
      size_t outstanding_frames =
          (client.pending_reply_bytes + frame.size() - 1) / frame.size();
      int completed = client.in_flight - static_cast<int>(outstanding_frames);
      if (completed > 0) {
        client.in_flight -= completed;
        replies_left -= completed;
        if (client.in_flight == 0) send_burst(client);
      }
    }
  }
  for (Client& client : clients) close(client.fd);
  close(epoll_fd);
  return 0;
}
