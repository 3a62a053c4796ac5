import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startHarness } from '../../src/gateway/testing/harness.js';
import { runClaude } from './processes.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('the real Claude Code CLI sends its OpenTelemetry to the gateway', () => {
  for (const protocol of ['http/json', 'http/protobuf']) {
    it(`${protocol}: metrics and event counts are kept per user; the prompt is not`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-otlp-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      await Promise.all([mkdir(join(dir, 'home')), mkdir(join(dir, 'project'))]);
      const h = await startHarness('{ upstream: anthropic }');
      cleanups.push(() => h.close());
      const { gateway, store, key } = h;
      const canary = `prompt-canary-${randomBytes(8).toString('hex')}`;
      const { code, stderr } = await runClaude(`say hi ${canary}`, {
        cwd: join(dir, 'project'),
        home: join(dir, 'home'),
        baseUrl: gateway.url,
        key,
        env: {
          CLAUDE_CODE_ENABLE_TELEMETRY: '1',
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_LOGS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_ENDPOINT: gateway.url,
          OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${key}`,
          OTEL_METRIC_EXPORT_INTERVAL: '500',
          OTEL_LOGS_EXPORT_INTERVAL: '500',
          OTEL_LOG_USER_PROMPTS: '1',
        },
      });
      assert.equal(code, 0, stderr);
      const rows = await store.telemetryUsage({ org: 'acme' });
      const metrics = rows.map((r) => r.metric);
      assert.ok(
        rows.every((r) => r.user === 'dev@acme.test'),
        'attributed by the key',
      );
      assert.ok(
        metrics.some((m) => m.startsWith('claude_code.token.usage{')),
        `token usage among ${metrics.join(', ')}`,
      );
      assert.ok(metrics.includes('event:user_prompt'), `user_prompt event among ${metrics.join(', ')}`);
      await store.close();
      for (const name of await readdir(h.dir, { recursive: true })) {
        const path = join(h.dir, name);
        if ((await stat(path)).isFile())
          assert.ok(!(await readFile(path)).includes(canary), `the prompt reached ${name}`);
      }
    });
  }
});
