/**
 * The `grpc` stack: @grpc/grpc-js unary echo with raw-bytes serializers. The service definition
 * is written by hand (no protobuf): every serializer passes the Buffer through. The server binds
 * with insecure credentials; the client is one `makeGenericClientConstructor` client, so one
 * channel, and gives every call a deadline.
 */
import {
  credentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';

const passThrough = (bytes: Buffer): Buffer => bytes;

/** `/netpoll.bench.Echo/Echo`: a unary method whose messages are raw bytes. */
export const kGrpcEchoService: ServiceDefinition = {
  echo: {
    path: '/netpoll.bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
    originalName: 'Echo',
  },
};

/** A running gRPC echo server. */
export interface GrpcEchoServer {
  /** 'host:port'. */
  readonly address: string;
  close(): Promise<void>;
}

/** Starts a gRPC echo server on `host:0` (127.0.0.1 by default), calling `onCall` per call. */
export async function startGrpcEchoServer({
  host = '127.0.0.1',
  onCall = () => {},
}: {
  readonly host?: string;
  readonly onCall?: () => void;
} = {}): Promise<GrpcEchoServer> {
  const server = new Server();
  server.addService(kGrpcEchoService, {
    echo: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      onCall();
      callback(null, call.request);
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });
  return {
    address: `${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Calls still open after a second are cut.
        const force = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

type UnaryMethod = (
  request: Buffer,
  options: { deadline: number },
  callback: (error: Error | null, reply?: Buffer) => void,
) => void;

const EchoClient = makeGenericClientConstructor(kGrpcEchoService, 'Echo');
type ServiceClient = InstanceType<typeof EchoClient>;

/** A gRPC echo client on one channel. */
export class GrpcEchoClient {
  readonly #client: ServiceClient;
  readonly #echo: UnaryMethod;

  private constructor(client: ServiceClient) {
    this.#client = client;
    this.#echo = (client.echo as UnaryMethod).bind(client);
  }

  /** Opens the channel to `address` ('host:port') and waits until it is ready. */
  static async connect(address: string, timeoutMs = 10_000): Promise<GrpcEchoClient> {
    const client = new EchoClient(address, credentials.createInsecure());
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + timeoutMs, (error) =>
        error === undefined || error === null ? resolve() : reject(error),
      ),
    );
    return new GrpcEchoClient(client);
  }

  /** Sends `payload`; resolves with the reply, rejects with the call's status. */
  call(payload: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#echo(payload, { deadline: Date.now() + timeoutMs }, (error, reply) =>
        error === null ? resolve(reply!) : reject(error),
      );
    });
  }

  /** Closes the channel. */
  async close(): Promise<void> {
    this.#client.close();
  }
}
