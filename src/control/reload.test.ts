import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from './config.js';
import { configChanges, reloadable, reloadProblem } from './reload.js';

const base = `storage: postgres://sluice:pg-password-1@db.example/sluice
upstreams:
  main: { provider: anthropic, baseUrl: https://api.anthropic.com, apiKey: sk-ant-main-secret }
orgs:
  acme: { upstream: main }
`;
const parse = (text: string) => parseConfig(text, 'sluice.yaml', {});

describe('configChanges', () => {
  it('names each changed setting with old and new values, every credential redacted', () => {
    const before = parse(base);
    const after = parse(
      base.replace('pg-password-1', 'pg-password-2') +
        `alerts:
  - { url: "https://hooks.slack.com/services/T/B/slack-secret", on: [budget:80], headers: { authorization: Bearer hook-secret } }
`,
    );
    after.upstreams.spare = {
      provider: 'anthropic',
      baseUrl: 'https://spare.example',
      apiKey: 'sk-ant-spare-secret',
      models: {},
      timeoutMs: 1000,
    };
    const changes = configChanges(before, after);
    assert.deepEqual(changes, [
      {
        path: 'storage',
        from: 'postgres://sluice:[redacted]@db.example/sluice',
        to: 'postgres://sluice:[redacted]@db.example/sluice',
      },
      {
        path: 'upstreams.spare',
        from: null,
        to: {
          provider: 'anthropic',
          baseUrl: 'https://spare.example',
          apiKey: '[redacted]',
          models: {},
          timeoutMs: 1000,
        },
      },
      {
        path: 'alerts',
        from: [],
        to: [{ url: '[redacted]', format: 'generic', on: ['budget:80'], headers: '[redacted]', attempts: 6 }],
      },
    ]);
    const text = JSON.stringify(changes);
    for (const s of ['pg-password', 'secret']) assert.ok(!text.includes(s), s);
  });

  it('restart-only settings keep their running values and are listed', () => {
    const running = parse(base);
    const next = parse(
      base.replace('storage: postgres', 'server: { port: 9999 }\nstorage: postgres') +
        'journal: { dir: /elsewhere }\n',
    );
    const { config, waiting } = reloadable(running, next);
    assert.deepEqual(waiting, ['server.port', 'journal']);
    assert.equal(config.server.port, 8787);
    assert.equal(config.journal.dir, './.sluice/journal');
  });
});

describe('reloadProblem', () => {
  it('one line, without the excerpt a YAML error quotes', () => {
    let err: unknown;
    try {
      parse('upstreams:\n  main: { apiKey: "sk-ant-quoted-secret }\n');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ConfigError);
    assert.ok(err.message.includes('sk-ant-quoted-secret'), 'the parser quotes the line');
    const line = reloadProblem(err);
    assert.ok(!line.includes('\n') && !line.includes('sk-ant-quoted-secret'), line);
    assert.match(line, /^sluice\.yaml: not valid YAML: /);
  });
});
