/**
 * Preloaded into Portkey's process by bench/gateway.ts (`node --import`), to work around a bug in
 * @portkey-ai/gateway 1.15.2 with the @hono/node-server it resolves (1.19.x): a streamed answer from
 * a provider it does not transform (anthropic /v1/messages) is re-wrapped as `new Response(body,
 * fetchResponse)`, and hono's Response then reuses the fetch response's immutable Headers, so
 * Portkey's `headers.append(...)` throws "TypeError: immutable" and every streamed request gets a
 * 500. Here each fetch() answer is copied into a Response with its own (mutable) headers; the body
 * stream is passed on as it is, so streaming is unchanged. Costs one object per request.
 */
const NativeResponse = globalThis.Response;
const nativeFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const res = await nativeFetch(input, init);
  return new NativeResponse(res.body, {
    status: res.status,
    statusText: res.statusText,
    headers: new globalThis.Headers(res.headers),
  });
};
