/** The gateway's listener against clients that misbehave: slow, malformed, too many. */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { startHarness } from './testing/harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Opens a raw connection to the gateway. */
function open(url: string): Promise<Socket> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function answer(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('utf8')));
    socket.on('close', () => resolve(got));
  });
}

describe('the listener', () => {
  it('cuts off a body trickled slower than server.requestTimeoutMs with a 408 that says so', async () => {
    const h = await startHarness('{ upstream: anthropic }', {
      server: 'headersTimeoutMs: 200, requestTimeoutMs: 400',
    });
    cleanups.push(() => h.close());
    const socket = await open(h.gateway.url);
    const got = answer(socket);
    socket.write(
      `POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: ${h.key}\r\ncontent-length: 1000\r\n\r\n{`,
    );
    // One byte now and then, far slower than the request may take; stops when the server closes.
    const drip = setInterval(() => socket.writable && socket.write(' '), 50);
    const text = await got;
    clearInterval(drip);
    assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(text, /\r\nx-sluice-error: request_timeout\r\n/);
    assert.match(
      text,
      /"message":"The request did not arrive within 400 ms \(server\.requestTimeoutMs\), so the gateway stopped waiting for it\./,
    );
    assert.equal(h.standin.seen.length, 0, 'nothing was forwarded');
  });

  it('answers bytes that are not HTTP with a catalog 400 and closes', async () => {
    const h = await startHarness('{ upstream: anthropic }');
    cleanups.push(() => h.close());
    const socket = await open(h.gateway.url);
    const got = answer(socket);
    socket.write('GARBAGE \x00\x01\r\n\r\n');
    const text = await got;
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(text, /x-sluice-error: bad_http/);
    assert.match(text, /"type":"invalid_request_error","message":"The request is not valid HTTP\/1\.1/);
  });

  it('closes connections past server.maxConnections at once, serves the rest, and logs it', async () => {
    const h = await startHarness('{ upstream: anthropic }', { server: 'maxConnections: 2' });
    cleanups.push(() => h.close());
    const held = [await open(h.gateway.url), await open(h.gateway.url)];
    const third = await open(h.gateway.url);
    const closed = await answer(third);
    assert.equal(closed, '', 'closed without an answer');
    await Promise.all(held.map((s) => new Promise((r) => s.once('close', r).destroy())));
    // The server counts a connection out when it sees it close: the next ones find room again.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++)
      status = await fetch(`${h.gateway.url}/healthz`).then(
        (r) => r.status,
        () => 0,
      );
    assert.equal(status, 200, 'served again once there is room');
    assert.ok(h.logs.some((l) => l.includes('connections over server.maxConnections closed')));
  });
});
