// Preloaded into a `sluice serve` child by the fault suite (NODE_OPTIONS=--import): signals that make
// a bug escape every handler, as a rejection nobody awaits (SIGUSR2) or an exception thrown from a
// callback (SIGHUP). The messages quote "prompt content", which the log must never show.
const SECRET = 'PROMPT-CONTENT-must-not-be-logged AKIAIOSFODNN7EXAMPLE';

process.on('SIGUSR2', () => {
  void Promise.reject(new TypeError(`rejected while handling: ${SECRET}`));
});
process.on('SIGHUP', () => {
  globalThis.setImmediate(() => {
    throw new RangeError(`thrown while handling: ${SECRET}`);
  });
});
