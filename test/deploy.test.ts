import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseConfig } from '../src/control/config.js';

const unit = new URL('../deploy/sluice.service', import.meta.url).pathname;
const example = new URL('../deploy/sluice.example.yaml', import.meta.url).pathname;

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const haveSystemd = analyze.status === 0;
if (!haveSystemd)
  console.warn('SKIPPING the unit file check: systemd-analyze is not installed on this machine');

describe('deploy/', () => {
  it('sluice.service passes systemd-analyze verify', { skip: !haveSystemd && 'no systemd-analyze' }, () => {
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings');
  });

  it('sluice.service keeps its hardening', async () => {
    const text = await readFile(unit, 'utf8');
    for (const line of [
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'UMask=0077',
      'StateDirectoryMode=0700',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'SystemCallFilter=@system-service',
    ])
      assert.ok(text.split('\n').includes(line), line);
  });

  it('the example configuration is valid and keeps every state path under /var/lib/sluice', async () => {
    const config = parseConfig(await readFile(example, 'utf8'), '/etc/sluice/sluice.yaml', {
      SLUICE_ADMIN_TOKEN: 'a'.repeat(32),
      ANTHROPIC_API_KEY: 'sk-ant-x',
      SLUICE_SLACK_WEBHOOK: 'https://hooks.slack.com/services/T/B/x',
    });
    assert.equal(config.storage, 'sqlite:/var/lib/sluice/sluice.db');
    for (const path of [config.journal.dir, config.adminLog.key, config.adminLog.checkpoints])
      assert.match(path, /^\/var\/lib\/sluice\//);
    assert.deepEqual(config.server.tls, {
      cert: '/etc/sluice/tls/fullchain.pem',
      key: '/etc/sluice/tls/privkey.pem',
    });
  });
});
