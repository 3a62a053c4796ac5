/** A Claude Code session transcript in the client's JSONL shape: user prompt, Read tool call, tool_result with a .env. */
import { CANARY } from './machine.js';

export const DOTENV = [
  'DATABASE_URL=postgres://app@localhost:5432/app',
  `AWS_ACCESS_KEY_ID=${CANARY.aws}`,
  `GITHUB_TOKEN=${CANARY.github}`,
  'LOG_LEVEL=debug',
  '',
].join('\n');

export function transcriptLines(
  cwd = '/home/dev/app',
  sessionId = '7f3c2a10-5b1e-4c8e-9a77-0d2f6b1e4c55',
): string[] {
  const base = {
    isSidechain: false,
    userType: 'external',
    cwd,
    sessionId,
    version: '2.1.328',
    gitBranch: 'main',
  };
  const numbered = DOTENV.split('\n')
    .filter(Boolean)
    .map((l, i) => `${String(i + 1).padStart(6)}\u2192${l}`)
    .join('\n');
  const entries = [
    {
      parentUuid: null,
      ...base,
      type: 'user',
      message: { role: 'user', content: 'Why does the app not connect? Check .env' },
      uuid: 'a1',
      timestamp: '2026-02-28T10:00:00.000Z',
    },
    {
      parentUuid: 'a1',
      ...base,
      type: 'assistant',
      message: {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [
          { type: 'text', text: 'Let me read the environment file.' },
          { type: 'tool_use', id: 'toolu_01', name: 'Read', input: { file_path: `${cwd}/.env` } },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: 1200, output_tokens: 40 },
      },
      requestId: 'req_01',
      uuid: 'a2',
      timestamp: '2026-02-28T10:00:02.000Z',
    },
    {
      parentUuid: 'a2',
      ...base,
      type: 'user',
      message: {
        role: 'user',
        content: [{ tool_use_id: 'toolu_01', type: 'tool_result', content: numbered }],
      },
      uuid: 'a3',
      timestamp: '2026-02-28T10:00:03.000Z',
      toolUseResult: {
        type: 'text',
        file: { filePath: `${cwd}/.env`, content: DOTENV, numLines: 4, startLine: 1, totalLines: 4 },
      },
    },
    {
      parentUuid: 'a3',
      ...base,
      type: 'assistant',
      message: {
        id: 'msg_02',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [
          {
            type: 'text',
            text: 'DATABASE_URL points at localhost:5432; is Postgres running? Write to ops@example.com if not.',
          },
        ],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1400, output_tokens: 30 },
      },
      uuid: 'a4',
      timestamp: '2026-02-28T10:00:05.000Z',
    },
  ];
  return [
    ...entries.map((e) => JSON.stringify(e)),
    JSON.stringify({ type: 'summary', summary: 'Debug DB connection', leafUuid: 'a4' }),
  ];
}
