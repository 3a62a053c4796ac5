import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, settingsChecksum, settingsFor } from './managed-settings.js';

describe('managed settings', () => {
  it('computes the checksum the reference gateway served (wire sample, §9)', () => {
    // The body of the reference gateway's 200 (claude-apps-gateway-wire-samples.jsonl), as served.
    const served = JSON.parse(
      '{"uuid":"sha256:e7cf109d81e9ac9f1dacfc1becb185aa6432cc1bf1a69bc5a5ad3186e9d07117","checksum":"sha256:e7cf109d81e9ac9f1dacfc1becb185aa6432cc1bf1a69bc5a5ad3186e9d07117","settings":{"availableModels":["claude-opus-4-8","claude-sonnet-4-6","claude-haiku-4-5"],"env":{"CLAUDE_CODE_ENABLE_TELEMETRY":"1","OTEL_METRICS_EXPORTER":"otlp","OTEL_LOGS_EXPORTER":"otlp","OTEL_TRACES_EXPORTER":"otlp","OTEL_EXPORTER_OTLP_ENDPOINT":"http://127.0.0.1:18790","OTEL_EXPORTER_OTLP_PROTOCOL":"http/protobuf","DISABLE_UPDATES":"1"}}}',
    ) as { checksum: string; settings: Record<string, unknown> };
    assert.equal(settingsChecksum(served.settings), served.checksum);
    assert.equal(canonicalJson({ b: [{ d: 1, c: 2 }], a: 'x' }), '{"a":"x","b":[{"c":2,"d":1}]}');
  });

  it('serves the first rule that fits org and groups, the base env under the policy env; none fits: null', () => {
    const rules = [
      { groups: ['contractors'], settings: { permissions: { deny: ['Bash'] } } },
      { org: 'acme', settings: { env: { DISABLE_UPDATES: '1', OTEL_LOGS_EXPORTER: 'none' } } },
    ];
    const eng = settingsFor(rules, 'acme', ['engineers'], 'http://127.0.0.1:8787');
    assert.equal(eng?.rule, 1);
    assert.deepEqual(eng?.settings, {
      env: {
        CLAUDE_CODE_GATEWAY_HINT_HEADERS: '1',
        CLAUDE_CODE_ENABLE_TELEMETRY: '1',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:8787',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        DISABLE_UPDATES: '1',
      },
    });
    assert.equal(eng?.checksum, settingsChecksum(eng!.settings));
    assert.equal(settingsFor(rules, 'beta', ['contractors'], 'http://x')?.rule, 0);
    assert.equal(settingsFor(rules, 'beta', ['engineers'], 'http://x'), null);
  });
});
