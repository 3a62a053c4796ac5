/**
 * A byte bridge: every connection to a listening socket is joined to a new connection to a target.
 * The host side of a sandbox listens on Unix sockets (the only way in or out of its network
 * namespace) and joins them to the gateway and the egress proxy on TCP.
 */
import { connect, createServer, type ListenOptions, type NetConnectOpts, type Socket } from 'node:net';

export interface RunningBridge {
  /** The TCP port listened on (null for a Unix socket). */
  port: number | null;
  /** Connections joined so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Listens at `listen` and joins each connection to `target`; either side closing closes both. */
export async function startBridge(listen: ListenOptions, target: NetConnectOpts): Promise<RunningBridge> {
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = connect(target);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => open.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen, resolve);
  });
  const address = server.address();
  return {
    port: address && typeof address === 'object' ? address.port : null,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
