/**
 * The fuzz targets (test/fuzz/targets/) in `npm test`: first every input of each seed corpus
 * (test/fuzz/corpus/<target>/, regression inputs of past crashes included) in-process, then each
 * target under jsfuzz for a bounded time (SLUICE_FUZZ_SECONDS, default 24, per target). A crash
 * fails the test, naming the file its input was written to (.fuzz/crashes/) and what broke;
 * `npm run fuzz -- <target> --run FILE` replays it with a readable stack trace.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CORPUS_DIR, fuzzTarget, fuzzTargets, TARGETS_DIR } from '../../scripts/fuzz.js';

const SECONDS = Number(process.env.SLUICE_FUZZ_SECONDS ?? 24);
const targets = await fuzzTargets();

describe('fuzz targets', () => {
  it('are the parsers the hardening issue names', () => {
    assert.deepEqual(targets, [
      'body',
      'config',
      'egress-request',
      'restore-message',
      'sse-restore',
      'sse-usage',
    ]);
  });

  for (const target of targets)
    it(`${target}: every input of its seed corpus keeps the properties`, async () => {
      const { fuzz } = (await import(pathToFileURL(join(TARGETS_DIR, `${target}.ts`)).href)) as {
        fuzz: (data: Buffer) => void;
      };
      const dir = join(CORPUS_DIR, target);
      const files = await readdir(dir);
      assert.ok(files.length > 0, `no seeds in ${dir}`);
      for (const file of files) {
        try {
          fuzz(await readFile(join(dir, file)));
        } catch (err) {
          assert.fail(`${join(dir, file)}: ${err instanceof Error ? err.stack : String(err)}`);
        }
      }
    });
});

describe(`coverage-guided fuzzing, ${SECONDS} s per target`, () => {
  for (const target of targets)
    it(`${target}: no input breaks it`, async () => {
      const run = await fuzzTarget(target, SECONDS);
      if (run.crash)
        assert.fail(
          `${target} broke on the input in ${run.crash.file}\n` +
            `(replay: npm run fuzz -- ${target} --run ${run.crash.file})\n${run.crash.output}`,
        );
      // A run that never got going (a bundle that does not load, coverage not counted) is a failure too.
      assert.ok(run.executions > 0 && run.coverage > 0, `${target}: ${JSON.stringify(run)}`);
      process.stderr.write(
        `fuzz ${target}: ${run.executions} inputs, coverage ${run.coverage}, corpus ${run.corpus}\n`,
      );
    });
});
