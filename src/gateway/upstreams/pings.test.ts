import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withPings } from './pings.js';

/** A source whose second chunk comes only when the test says so. */
function gatedSource() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.from('event: message_start\ndata: {}\n\n');
    await gate;
    yield Buffer.from('event: message_stop\ndata: {}\n\n');
  }
  return { source: source(), open };
}

describe('pings in a silent translated stream', () => {
  it('writes a ping event while the source is silent, and passes every chunk in order', async () => {
    const { source, open } = gatedSource();
    const it = withPings(source, 5)[Symbol.asyncIterator]();
    assert.match(String((await it.next()).value), /message_start/);
    // The source is held: what comes next can only be a ping.
    assert.equal(String((await it.next()).value), 'event: ping\ndata: {"type":"ping"}\n\n');
    open();
    let rest = '';
    for (let r = await it.next(); !r.done; r = await it.next()) rest += String(r.value);
    assert.match(rest, /message_stop/);
    assert.ok(rest.endsWith('event: message_stop\ndata: {}\n\n'), 'a ping never cuts an event');
  });

  it('a source that keeps talking gets no pings', async () => {
    async function* busy(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 50; i++) yield Buffer.from(`data: ${i}\n\n`);
    }
    let out = '';
    for await (const chunk of withPings(busy(), 60_000)) out += String(chunk);
    assert.ok(!out.includes('ping'));
    assert.equal(out.split('\n\n').length - 1, 50);
  });
});
