import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readLogs, readMetrics, TelemetryError } from './otlp.js';

const now = new Date('2026-11-22T12:00:00Z');
const kv = (key: string, stringValue: string) => ({ key, value: { stringValue } });

describe('the OTLP readers', () => {
  it('JSON metrics: keeps name, type and model; drops every other attribute; knows the temporality', () => {
    const body = Buffer.from(
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [kv('session.id', 'sess-1'), kv('user.email', 'dev@acme.test')] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'claude_code.token.usage',
                    sum: {
                      aggregationTemporality: 1,
                      dataPoints: [
                        {
                          attributes: [
                            kv('type', 'input'),
                            kv('model', 'claude-x'),
                            kv('prompt', 'secret words'),
                          ],
                          asDouble: 120,
                          timeUnixNano: '1795780800000000000',
                        },
                      ],
                    },
                  },
                  {
                    name: 'claude_code.lines_of_code.count',
                    sum: {
                      aggregationTemporality: 2,
                      dataPoints: [{ attributes: [kv('type', 'added')], asInt: '7' }],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    assert.deepEqual(readMetrics(body, 'application/json', now), [
      {
        sessionId: 'sess-1',
        metric: 'claude_code.token.usage{model=claude-x,type=input}',
        day: '2026-11-27',
        value: 120,
        cumulative: false,
      },
      {
        sessionId: 'sess-1',
        metric: 'claude_code.lines_of_code.count{type=added}',
        day: '2026-11-22',
        value: 7,
        cumulative: true,
      },
    ]);
  });

  it('JSON logs: one count per event name, nothing else', () => {
    const body = Buffer.from(
      JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [
                  {
                    attributes: [
                      kv('event.name', 'user_prompt'),
                      kv('prompt', 'secret words'),
                      kv('session.id', 's'),
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    assert.deepEqual(readLogs(body, 'application/json', now), [
      { sessionId: 's', metric: 'event:user_prompt', day: '2026-11-22', value: 1, cumulative: false },
    ]);
  });

  it('bad bodies are TelemetryErrors, never crashes', () => {
    assert.throws(() => readMetrics(Buffer.from('{nope'), 'application/json', now), TelemetryError);
    // A data point whose time (fixed64) is cut short, inside well-formed outer messages.
    const point = Buffer.from([0x19, 1, 2, 3]); // NumberDataPoint field 3, wire type 1, 3 of 8 bytes
    const wrap = (field: number, inner: Buffer) =>
      Buffer.concat([Buffer.from([(field << 3) | 2, inner.length]), inner]);
    const cut = wrap(1, wrap(2, wrap(2, wrap(7, wrap(1, point)))));
    assert.throws(() => readMetrics(cut, 'application/x-protobuf', now), /truncated protobuf/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const read of [readMetrics, readLogs])
          try {
            read(Buffer.from(bytes), 'application/x-protobuf', now);
          } catch (err) {
            assert.ok(err instanceof TelemetryError, String(err));
          }
      }),
      { numRuns: 3000 },
    );
  });
});
