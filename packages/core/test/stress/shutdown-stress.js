// Shutdown under load, checked from the client side: a server process (fixtures/shutdown-server.js)
// answers every request with a 64 KiB frame; clients keep pipelining requests on many connections,
// the server gets SIGTERM, and the clients keep sending until they read EOF. Every request whose
// bytes had reached the server's kernel when the signal was sent (the client's written bytes minus
// what its kernel still holds unacknowledged) must get its whole reply; no stream may end in a
// truncated frame or a reset.
//
//   node test/stress/shutdown-stress.js [--repeats 20] [--reactors 1,2] [--connections 100]
//
// Run after `pnpm build` (it uses dist/). Prints one JSON line per repeat and a summary; exits 1
// when any request was lost, any frame truncated or any connection reset.
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const core = require('../../dist/index.js');
const { getReactor } = require('../../dist/get-reactor.js');
const { kReplySize, fill } = require('../fixtures/reply-handler.js');

const kRequestSize = 12; // 4-byte header + 8-byte sequence number
const kWindow = 8; // requests in flight per connection

function startServer(reactors) {
  const child = spawn(
    process.execPath,
    [join(__dirname, '../fixtures/shutdown-server.js'), String(reactors)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = [];
  let buffered = '';
  const waiters = [];
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let index = buffered.indexOf('\n'); index >= 0; index = buffered.indexOf('\n')) {
      lines.push(JSON.parse(buffered.slice(0, index)));
      buffered = buffered.slice(index + 1);
      for (const waiter of waiters.splice(0)) waiter();
    }
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const line = async (key) => {
    for (;;) {
      const found = lines.find((entry) => key in entry);
      if (found !== undefined) return found;
      await new Promise((resolve) => waiters.push(resolve));
    }
  };
  return { child, exited, line };
}

/** One client connection: pipelines requests, checks every reply, records how the stream ended. */
class Client {
  constructor(connection) {
    this.connection = connection;
    this.sent = 0; // requests flushed
    this.replies = new Set();
    this.bad = 0; // replies with wrong content
    this.required = -1; // requests that had reached the server when SIGTERM was sent
    this.truncated = 0;
    this.reset = null;
    this.closed = new Promise((resolve) => connection.once('close', resolve));
    this.answered = new Promise((resolve) => {
      this.onFirstReply = resolve;
    });
    this.expected = Buffer.alloc(4 + kReplySize);
    connection.on('end', () => {
      this.truncated = connection.reader.len() > 0 ? 1 : 0;
    });
    connection.on('error', () => {});
    connection.once('close', (error) => {
      if (error !== null && error !== undefined) this.reset = error.code ?? String(error);
    });
    connection.setOnRequest(() => this.#onData());
    this.#pump();
  }

  #onData() {
    const reader = this.connection.reader;
    while (reader.len() >= 4 + kReplySize) {
      const frame = reader.next(4 + kReplySize);
      const sequence = Number(frame.readBigUInt64BE(4));
      fill(this.expected, sequence);
      if (!frame.equals(this.expected) || this.replies.has(sequence) || sequence >= this.sent) {
        this.bad++;
      }
      this.replies.add(sequence);
    }
    if (this.replies.size > 0) this.onFirstReply();
    this.#pump();
  }

  #pump() {
    const connection = this.connection;
    if (!connection.isActive()) return;
    try {
      while (this.sent - this.replies.size < kWindow) {
        const view = connection.writer.malloc(kRequestSize);
        view.writeUInt32BE(8, 0);
        view.writeBigUInt64BE(BigInt(this.sent), 4);
        this.sent++;
      }
      connection.writer.flush();
    } catch (error) {
      if (error.code !== 'ERR_NETPOLL_CONN_CLOSED') throw error;
    }
  }

  /** What had reached the server's kernel: written minus unsent minus unacknowledged. */
  snapshot(binding) {
    const connection = this.connection;
    const unacknowledged = Math.max(0, binding.unacknowledgedBytes(connection.fd));
    const delivered = this.sent * kRequestSize - connection.pendingBytes - unacknowledged;
    this.required = Math.floor(delivered / kRequestSize);
  }

  get lost() {
    let lost = 0;
    for (let sequence = 0; sequence < this.required; sequence++) {
      if (!this.replies.has(sequence)) lost++;
    }
    return lost;
  }
}

async function repeat(reactors, connections, loadMs) {
  const server = startServer(reactors);
  const { port } = await server.line('port');
  const clients = [];
  for (let i = 0; i < connections; i++) {
    const connection = await core.dialConnection('tcp', `127.0.0.1:${port}`, { timeout: 5000 });
    clients.push(new Client(connection));
  }
  // A connection the server has not accepted yet sits in its listener's backlog, which a shutdown
  // closes unread (its peer reads EOF): its requests reached the kernel but never the server. The
  // load window starts once every connection has a reply, that is, once every one was accepted.
  let unanswered;
  const stuck = new Promise((_, reject) => {
    unanswered = setTimeout(() => {
      const count = clients.filter((client) => client.replies.size === 0).length;
      server.child.kill('SIGKILL');
      for (const client of clients) client.connection.close();
      reject(new Error(`${count} of ${connections} connections had no reply after 20 s`));
    }, 20000);
  });
  try {
    await Promise.race([Promise.all(clients.map((client) => client.answered)), stuck]);
  } finally {
    clearTimeout(unanswered);
  }
  await new Promise((resolve) => setTimeout(resolve, loadMs));
  const binding = getReactor().binding;
  for (const client of clients) client.snapshot(binding);
  server.child.kill('SIGTERM');
  const started = Date.now();
  const deadline = setTimeout(() => {
    for (const client of clients) client.connection.close();
  }, 20000);
  await Promise.all(clients.map((client) => client.closed));
  clearTimeout(deadline);
  const code = await server.exited;
  const shutdown = await Promise.race([
    server.line('shutdownMs'),
    Promise.resolve({ shutdownMs: -1 }),
  ]);
  const sum = (pick) => clients.reduce((total, client) => total + pick(client), 0);
  return {
    reactors,
    connections,
    serverExit: code,
    shutdownMs: shutdown.shutdownMs,
    closedAfterMs: Date.now() - started,
    sent: sum((client) => client.sent),
    replies: sum((client) => client.replies.size),
    required: sum((client) => Math.max(0, client.required)),
    lost: sum((client) => client.lost),
    bad: sum((client) => client.bad),
    truncated: sum((client) => client.truncated),
    resets: sum((client) => (client.reset === null ? 0 : 1)),
  };
}

function failed(result) {
  return result.lost + result.bad + result.truncated + result.resets > 0 || result.serverExit !== 0;
}

async function run({ repeats, reactors, connections, loadMs, log = () => {} }) {
  const results = [];
  for (const count of reactors) {
    for (let i = 0; i < repeats; i++) {
      const result = await repeat(count, connections, loadMs);
      log(result);
      results.push(result);
    }
  }
  return results;
}

module.exports = { run, failed };

if (require.main === module) {
  const args = process.argv.slice(2);
  const flag = (name, fallback) => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? args[index + 1] : fallback;
  };
  const options = {
    repeats: Number(flag('repeats', '20')),
    reactors: flag('reactors', '1,2').split(',').map(Number),
    connections: Number(flag('connections', '100')),
    loadMs: Number(flag('load', '300')),
    log: (result) => console.log(JSON.stringify(result)),
  };
  run(options).then((results) => {
    const bad = results.filter(failed);
    const total = (key) => results.reduce((sum, result) => sum + result[key], 0);
    console.log(
      `${results.length} repeats: ${total('required')} requests had reached the servers at SIGTERM, ` +
        `${total('replies')} replies, ${total('lost')} lost, ${total('truncated')} truncated, ` +
        `${total('resets')} resets, ${bad.length} failed repeats`,
    );
    process.exit(bad.length === 0 ? 0 : 1);
  });
}
