/**
 * Git's pkt-line framing (gitprotocol-common(5)), as far as the git proxy needs it: the command
 * list at the head of a push (gitprotocol-pack(5), "Reference Update Request"), the report-status
 * a push answers with, side-band demultiplexing, and the want/have counts of a fetch request.
 */

export const ZERO_OID = /^0+$/;

/** One pkt-line: its payload, or a flush (`0000`) / delimiter (`0001`) / response-end (`0002`). */
export type Pkt = { data: Buffer } | { special: 'flush' | 'delim' | 'end' };

export class PktLineError extends Error {}

/** The pkt-line at `at` in `buf` and where the next one starts, or null when it is not whole yet. */
export function nextPkt(buf: Buffer, at: number): { pkt: Pkt; next: number } | null {
  if (buf.length - at < 4) return null;
  const head = buf.toString('latin1', at, at + 4);
  if (!/^[0-9a-f]{4}$/.test(head)) throw new PktLineError(`not a pkt-line length: "${head}"`);
  const len = parseInt(head, 16);
  if (len < 4) return { pkt: { special: len === 0 ? 'flush' : len === 1 ? 'delim' : 'end' }, next: at + 4 };
  if (buf.length - at < len) return null;
  return { pkt: { data: buf.subarray(at + 4, at + len) }, next: at + len };
}

/** Splits `buf` into whole pkt-lines; `rest` is what follows the last whole one. */
export function readPkts(buf: Buffer): { pkts: Pkt[]; rest: Buffer } {
  const pkts: Pkt[] = [];
  let at = 0;
  for (let n = nextPkt(buf, at); n; n = nextPkt(buf, at)) {
    pkts.push(n.pkt);
    at = n.next;
  }
  return { pkts, rest: buf.subarray(at) };
}

/** One pkt-line holding `payload` (a string gets its trailing newline as given). */
export function pkt(payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (data.length > 65516) throw new PktLineError('pkt-line payload too long');
  return Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, '0'), 'latin1'), data]);
}

export const FLUSH = Buffer.from('0000', 'latin1');

export interface RefUpdate {
  oldOid: string;
  newOid: string;
  ref: string;
}

export interface PushHead {
  updates: RefUpdate[];
  /** Capabilities the client asked for (after the NUL of the first command). */
  capabilities: string[];
  /** Bytes of the head (shallow lines, commands, their flush), to be passed on unchanged. */
  length: number;
}

const COMMAND = /^([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (refs\/[^\0\n ]+)$/;

/**
 * The command list at the start of a receive-pack request body, or null while `buf` does not yet
 * hold its closing flush. Throws `PktLineError` on anything that is not a command list.
 */
export function readPushHead(buf: Buffer): PushHead | null {
  const updates: RefUpdate[] = [];
  let capabilities: string[] = [];
  let at = 0;
  for (let n = nextPkt(buf, at); n; n = nextPkt(buf, at)) {
    at = n.next;
    if ('special' in n.pkt) {
      if (n.pkt.special !== 'flush') throw new PktLineError('unexpected delimiter in a push command list');
      return { updates, capabilities, length: at };
    }
    let line = n.pkt.data.toString('utf8').replace(/\n$/, '');
    if (line.startsWith('shallow ') && updates.length === 0) continue;
    if (line.startsWith('push-cert')) throw new PktLineError('signed pushes are not supported');
    const nul = line.indexOf('\0');
    if (nul >= 0) {
      if (updates.length) throw new PktLineError('capabilities after the first command');
      capabilities = line
        .slice(nul + 1)
        .split(' ')
        .filter(Boolean);
      line = line.slice(0, nul);
    }
    const m = COMMAND.exec(line);
    if (!m) throw new PktLineError('not a ref update command');
    updates.push({ oldOid: m[1] as string, newOid: m[2] as string, ref: m[3] as string });
  }
  return null;
}

/** The payload of side-band channel 1 of a response (or the response itself without side-band). */
export function demultiplex(response: Buffer, sideBand: boolean): Buffer {
  if (!sideBand) return response;
  const parts: Buffer[] = [];
  for (const p of readPkts(response).pkts) if ('data' in p && p.data[0] === 1) parts.push(p.data.subarray(1));
  return Buffer.concat(parts);
}

export interface PushReport {
  unpack: string;
  refs: { ref: string; ok: boolean; reason: string | null }[];
}

/** Reads a report-status (or report-status-v2) answer; null when there is none. */
export function readReport(response: Buffer, capabilities: string[]): PushReport | null {
  const sideBand = capabilities.includes('side-band-64k') || capabilities.includes('side-band');
  let pkts: Pkt[];
  try {
    pkts = readPkts(demultiplex(response, sideBand)).pkts;
  } catch {
    return null;
  }
  const lines = pkts.flatMap((p) => ('data' in p ? [p.data.toString('utf8').replace(/\n$/, '')] : []));
  const unpack = lines.find((l) => l.startsWith('unpack '));
  if (!unpack) return null;
  const refs: PushReport['refs'] = [];
  for (const l of lines) {
    const m = /^(ok|ng) (\S+)(?: (.*))?$/.exec(l);
    if (m) refs.push({ ref: m[2] as string, ok: m[1] === 'ok', reason: m[3] ?? null });
  }
  return { unpack: unpack.slice('unpack '.length), refs };
}

/**
 * A receive-pack answer refusing every update with `reason`, in the form the client asked for
 * (side-band or not); the client prints it as `! [remote rejected] <ref> (<reason>)`.
 */
export function refusal(updates: RefUpdate[], capabilities: string[], reason: string): Buffer {
  if (!capabilities.includes('report-status') && !capabilities.includes('report-status-v2'))
    return Buffer.alloc(0);
  const oneLine = reason.replace(/[\r\n]+/g, ' ');
  const report = Buffer.concat([
    pkt('unpack ok\n'),
    ...updates.map((u) => pkt(`ng ${u.ref} ${oneLine}\n`)),
    FLUSH,
  ]);
  const sideBand = capabilities.includes('side-band-64k') || capabilities.includes('side-band');
  if (!sideBand) return report;
  const max = capabilities.includes('side-band-64k') ? 65515 : 995;
  const out: Buffer[] = [];
  for (let i = 0; i < report.length; i += max)
    out.push(pkt(Buffer.concat([Buffer.from([1]), report.subarray(i, i + max)])));
  out.push(FLUSH);
  return Buffer.concat(out);
}

/** What a fetch request asks for: its command (protocol v2) and how many wants and haves it sends. */
export function readFetchRequest(body: Buffer): { command: string; wants: number; haves: number } {
  let command = 'fetch';
  let wants = 0;
  let haves = 0;
  for (const p of readPkts(body).pkts) {
    if (!('data' in p)) continue;
    const line = p.data.toString('latin1');
    if (line.startsWith('command=')) command = line.slice(8).trim();
    else if (line.startsWith('want ')) wants++;
    else if (line.startsWith('have ')) haves++;
  }
  return { command, wants, haves };
}
