// @ts-check
/**
 * The first program inside a sandbox (plain JavaScript: it runs on the host's Node binary, mounted
 * read-only, with nothing of Sluice's dependencies). It
 * 1. listens on loopback for the gateway, the egress proxy and the git proxy, joining each
 *    connection to its Unix socket (the network namespace has nothing else);
 * 2. clones the session's repository through the git proxy and starts the session's branch;
 * 3. runs Claude Code in the clone, passing signals on, and exits with its status;
 * 4. when the org keeps transcripts, hands them to Sluice over their own socket before it exits.
 * Its instructions are /run/sluice/session.json, written by `sluice sandbox run`.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join, relative } from 'node:path';

/**
 * @typedef {{
 *   listen: { port: number, socket: string }[],
 *   clone: { url: string, dir: string, branch: string },
 *   claude: { path: string, args: string[] },
 *   transcriptSocket: string | null,
 *   home: string,
 *   bypassPermissions: boolean,
 * }} Session
 */

const say = (/** @type {string} */ line) => process.stderr.write(`sluice sandbox: ${line}\n`);

/** @param {{ port: number, socket: string }} route */
function forward(route) {
  const server = createServer((client) => {
    const upstream = connect(route.socket);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(route.port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * @param {string[]} args
 * @param {string} [cwd]
 * @returns {Promise<number>}
 */
function run(args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(args[0] ?? '', args.slice(1), { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', () => resolve(127));
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/** @param {string} dir @returns {Promise<string[]>} */
async function jsonlFiles(dir) {
  /** @type {string[]} */
  const out = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return out;
  }
  for (const e of entries)
    if (e.isFile() && e.name.endsWith('.jsonl')) out.push(join(e.parentPath ?? e.path, e.name));
  return out;
}

/** Sends each transcript as a header line `{"file":…,"bytes":…}` followed by its bytes. */
async function sendTranscripts(/** @type {string} */ socketPath, /** @type {string} */ home) {
  const root = join(home, '.claude', 'projects');
  const socket = connect(socketPath);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const file of await jsonlFiles(root)) {
    const bytes = await readFile(file);
    socket.write(JSON.stringify({ file: relative(root, file), bytes: bytes.length }) + '\n');
    socket.write(bytes);
  }
  // Wait for Sluice's acknowledgement: the sandbox must not end before the hand-over is read.
  const ack = new Promise((resolve) => {
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('close', () => resolve(text));
  });
  socket.end();
  if ((await ack) !== 'ok\n') throw new Error('Sluice did not acknowledge the transcript');
}

/**
 * Marks the clone trusted and onboarding done, so an interactive session opens on its prompt; when
 * the org's policy runs the client without permission prompts, the warning it would show first is
 * answered in the user settings: this sandbox is the restricted environment that warning asks for.
 */
async function prepareHome(/** @type {Session} */ s) {
  const state = {
    hasCompletedOnboarding: true,
    projects: { [s.clone.dir]: { hasTrustDialogAccepted: true } },
  };
  await writeFile(join(s.home, '.claude.json'), JSON.stringify(state), { flag: 'wx' });
  if (!s.bypassPermissions) return;
  await mkdir(join(s.home, '.claude'), { recursive: true });
  const settings = { skipDangerousModePermissionPrompt: true };
  await writeFile(join(s.home, '.claude', 'settings.json'), JSON.stringify(settings), { flag: 'wx' });
}

async function main() {
  /** @type {Session} */
  const s = JSON.parse(await readFile('/run/sluice/session.json', 'utf8'));
  await Promise.all(s.listen.map(forward));
  say(`cloning ${s.clone.url}`);
  if ((await run(['git', 'clone', '--quiet', s.clone.url, s.clone.dir])) !== 0) {
    say('the clone failed; see the git message above');
    return 3;
  }
  await run(['git', '-C', s.clone.dir, 'checkout', '--quiet', '-b', s.clone.branch]);
  await run(['git', '-C', s.clone.dir, 'config', 'push.default', 'current']);
  await prepareHome(s);
  say(`working on branch ${s.clone.branch}; git push sends it through Sluice`);
  const claude = spawn(s.claude.path, s.claude.args, { cwd: s.clone.dir, stdio: 'inherit' });
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP']))
    process.on(signal, () => claude.kill(signal));
  /** @type {number} */
  const code = await new Promise((resolve) =>
    claude.on('exit', (c, signal) => resolve(c ?? 128 + (signal === 'SIGKILL' ? 9 : 15))),
  );
  if (s.transcriptSocket && (await stat(s.transcriptSocket).catch(() => null)))
    await sendTranscripts(s.transcriptSocket, s.home).catch((err) =>
      say(`transcript not handed over: ${err}`),
    );
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
