/**
 * Keep-alive for a translated stream. Bedrock's event stream carries no pings, and Claude Code
 * gives up on a stream that is silent for minutes (its idle watchdogs), so a silence of `everyMs`
 * becomes a Messages API `ping` event, always between two whole events.
 */

const PING = Buffer.from('event: ping\ndata: {"type":"ping"}\n\n');

export async function* withPings(source: AsyncIterable<Buffer>, everyMs: number): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let pending = it.next();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const silence = new Promise<'silence'>((resolve) => {
        timer = setTimeout(() => resolve('silence'), everyMs);
      });
      const next = await Promise.race([pending, silence]);
      clearTimeout(timer);
      if (next === 'silence') {
        yield PING;
        continue;
      }
      if (next.done) return;
      yield next.value;
      pending = it.next();
    }
  } finally {
    // The reader stopped early (the client went away): let the source release its connection.
    void it.return?.().catch(() => undefined);
  }
}
