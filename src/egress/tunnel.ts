/** A CONNECT tunnel: bytes both ways between the client and the checked address, counted, with an idle timeout. */
import { connect, type Socket } from 'node:net';
import { errors } from '../errors/catalog.js';
import { refuse } from './refusal.js';

export interface Transfer {
  up: number;
  down: number;
}

export interface TunnelOptions {
  client: Socket;
  /** Bytes the client sent after its request head (they belong to the tunnel). */
  head: Buffer;
  /** The address that was checked: the tunnel goes there and nowhere else. */
  address: string;
  port: number;
  /** What the client asked for, for the 502 if the address cannot be reached. */
  target: string;
  idleTimeoutMs: number;
  /** Keeps the far socket known to the proxy until it closes (so the proxy can close it on shutdown). */
  track(socket: Socket): void;
  /** Called once, when the tunnel is torn down. */
  onEnd(bytes: Transfer, error: string | null): void;
}

export function openTunnel(o: TunnelOptions): void {
  const { client, head } = o;
  const bytes: Transfer = { up: head.length, down: 0 };
  let error: string | null = null;
  let done = false;
  let connected = false;
  let far: Socket | undefined;
  const finish = () => {
    if (done) return;
    done = true;
    client.destroy();
    far?.destroy();
    o.onEnd(bytes, error);
  };
  try {
    far = connect({ host: o.address, port: o.port });
  } catch (err) {
    // Not expected (the target was validated), but never a crash.
    error = (err as Error).message;
    refuse(client, errors.egressUnreachable(o.target));
    return finish();
  }
  o.track(far);
  const target = far;
  target.setTimeout(o.idleTimeoutMs, finish);
  client.setTimeout(o.idleTimeoutMs, finish);
  target.on('error', (err) => {
    error = err.message;
    if (!connected) refuse(client, errors.egressUnreachable(o.target));
    finish();
  });
  // When one side closes cleanly, the other still gets what is buffered for it (the pipe ends it)
  // before the tunnel is torn down; after an error, it is torn down at once.
  const drainThenFinish = (other: Socket) => (hadError: boolean) => {
    if (hadError || other.destroyed || other.writableFinished) return finish();
    other.once('finish', finish);
    if (!other.writableEnded) other.end();
  };
  client.on('close', drainThenFinish(target));
  target.on('close', drainThenFinish(client));
  target.on('connect', () => {
    connected = true;
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) target.write(head);
    client.on('data', (c: Buffer) => (bytes.up += c.length));
    target.on('data', (c: Buffer) => (bytes.down += c.length));
    client.pipe(target);
    target.pipe(client);
  });
}
