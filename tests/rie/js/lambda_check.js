// The AWS SDK for JavaScript v3 (@aws-sdk/client-lambda, pinned in
// package.json and package-lock.json beside this file, installed into
// out/sdk-js by `make sdk-js`; found through NODE_PATH) against faas-rie:
// InvokeCommand and InvokeWithResponseStreamCommand, the answers parsed by
// the SDK itself (its event-stream decoder checks every CRC).
// argv: the URLs of faas-rie serving examples/context.c, examples/stream.c,
// examples/stream-rs, the fixture (with $DRIP_FILE) and the fixture with a
// 1 s timeout; then the file the fixture's "drip" waits for.
// Exits non-zero on the first failed check.
"use strict";
const fs = require("fs");
const { LambdaClient, InvokeCommand, InvokeWithResponseStreamCommand } = require("@aws-sdk/client-lambda");
const sdkVersion = require("@aws-sdk/client-lambda/package.json").version;

const [ctxUrl, streamCUrl, streamRsUrl, fixUrl, fix1Url, dripFile] = process.argv.slice(2);
let checks = 0;

function check(name, ok, detail) {
  if (!ok) {
    console.error(`@aws-sdk/client-lambda ${sdkVersion} check failed: ${name}: ${JSON.stringify(detail, (k, v) => (v instanceof Uint8Array ? text(v) : v))}`);
    process.exit(1);
  }
  checks++;
}

// Dummy credentials and region; no retries: every invoke runs exactly once.
const client = (endpoint) =>
  new LambdaClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 });
const [ctx, streamC, streamRs, fix, fix1] = [ctxUrl, streamCUrl, streamRsUrl, fixUrl, fix1Url].map(client);

const bytes = (s) => Buffer.from(s);
const text = (u8) => Buffer.from(u8 || []).toString();
const b64 = (s) => Buffer.from(s).toString("base64");
const unb64 = (s) => Buffer.from(s, "base64").toString();
const deepEqual = (a, b) => {
  try {
    require("assert").deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
};

async function failsWith(name, call, errName, msg = "") {
  try {
    await call();
    check(name, false, "no error");
  } catch (e) {
    check(name, e.name === errName && (e.message || "").includes(msg) && e.$metadata.httpStatusCode >= 400, { name: e.name, message: e.message, meta: e.$metadata });
  }
}

const invoke = (c, input) => c.send(new InvokeCommand({ FunctionName: "function", ...input }));

// One InvokeWithResponseStream: the response less its stream, and the events
// as [name, value] pairs; onEvent sees each as the SDK yields it.
async function stream(c, payload, input = {}, onEvent) {
  const r = await c.send(new InvokeWithResponseStreamCommand({ FunctionName: "function", Payload: bytes(payload), ...input }));
  const events = [];
  const odd = [];
  if (r.EventStream) {
    for await (const ev of r.EventStream) {
      const keys = Object.keys(ev).filter((k) => ev[k] !== undefined);
      if (keys.length !== 1) {
        odd.push(ev);
        continue;
      }
      events.push([keys[0], ev[keys[0]]]);
      if (onEvent) onEvent(keys[0], ev[keys[0]]);
    }
  }
  // (One check per stream, not per event: how the chunks group depends on timing.)
  check("one member per event", odd.length === 0, odd);
  const { EventStream, ...rest } = r;
  return [rest, events];
}

const chunks = (events) => events.filter(([k]) => k === "PayloadChunk").map(([, v]) => text(v.Payload));

function complete(events) {
  const names = events.map(([k]) => k);
  check("one InvokeComplete, last", names.filter((n) => n === "InvokeComplete").length === 1 && names[names.length - 1] === "InvokeComplete" && names.every((n) => n === "PayloadChunk" || n === "InvokeComplete"), names);
  return events[events.length - 1][1];
}

function streamHead(name, r) {
  check(`${name}: status, version, content type`, r.StatusCode === 200 && r.ExecutedVersion === "$LATEST" && r.ResponseStreamContentType === "application/vnd.amazon.eventstream", r);
  check(`${name}: request id`, (r.$metadata.requestId || "").length === 36, r.$metadata);
}

async function main() {
  // --- InvokeCommand ---
  let r = await invoke(ctx, { Payload: bytes('{"a":1}') });
  let body = JSON.parse(text(r.Payload));
  check("success", r.StatusCode === 200 && r.ExecutedVersion === "$LATEST" && r.FunctionError === undefined && r.LogResult === undefined, r);
  check("the request id is the function's", body.request_id === r.$metadata.requestId && body.event_bytes === 7, body);
  const n = body.invocations;

  r = await invoke(ctx, { Payload: bytes('"fail"'), LogType: "Tail" });
  const err = JSON.parse(text(r.Payload));
  check("function error", r.StatusCode === 200 && r.FunctionError === "Unhandled", r);
  check("its error document", deepEqual(err, { errorMessage: 'the event asked to fail: "quotes", \\ and a\nnewline', errorType: "Function.AskedToFail", stackTrace: [] }), err);
  const rid = r.$metadata.requestId;
  let tail = unb64(r.LogResult);
  check("Tail log", tail.includes(`invocation ${n + 1}, request ${rid}`) && tail.includes(`START RequestId: ${rid}`) && tail.includes(`REPORT RequestId: ${rid}`), tail);

  const cc = { client: { installation_id: "i-1", app_title: "sdk test" }, custom: { k: "v" }, env: { locale: "fr" } };
  r = await invoke(ctx, { Payload: bytes("{}"), ClientContext: b64(JSON.stringify(cc)) });
  body = JSON.parse(text(r.Payload));
  check("ClientContext reaches the function", deepEqual(JSON.parse(body.client_context), cc), body);

  // The runtime sees the ARN the caller used, account included.
  r = await invoke(ctx, { FunctionName: "arn:aws:lambda:us-east-1:111122223333:function:function", Qualifier: "live", Payload: bytes("{}") });
  body = JSON.parse(text(r.Payload));
  check("ARN and Qualifier", body.function_arn === "arn:aws:lambda:us-east-1:111122223333:function:function:live", body);

  r = await invoke(ctx, { Payload: bytes("{}"), TenantId: "tenant-42" });
  body = JSON.parse(text(r.Payload));
  check("TenantId reaches the function", body.tenant_id === "tenant-42", body);
  const last = body.invocations;

  r = await invoke(ctx, { InvocationType: "Event", Payload: bytes('{"event":1}') });
  check("Event", r.StatusCode === 202 && text(r.Payload) === "" && r.FunctionError === undefined, r);
  r = await invoke(ctx, { InvocationType: "DryRun", Payload: bytes("{}") });
  check("DryRun", r.StatusCode === 204 && text(r.Payload) === "", r);
  // One runtime takes jobs oldest first: the Event ran before this invoke,
  // the DryRun never ran.
  r = await invoke(ctx, { Payload: bytes("{}") });
  check("the Event ran once, the DryRun not", JSON.parse(text(r.Payload)).invocations === last + 2, last);

  await failsWith("unknown function", () => invoke(ctx, { FunctionName: "nope", Payload: bytes("{}") }), "ResourceNotFoundException", "Function not found");
  await failsWith("too large", () => invoke(ctx, { Payload: Buffer.alloc((6 << 20) + 2, 0x61) }), "RequestTooLargeException");

  // A streaming function called with plain Invoke: all it sent, as one payload.
  r = await invoke(streamC, { Payload: bytes('"plain"') });
  check("streaming function, plain Invoke", r.StatusCode === 200 && text(r.Payload) === 'start\n"plain"\nend\n', r);
  // One that fails mid-stream: a function error with its document, and the
  // Tail log, in headers (as Lambda, faas-rie buffers the stream for a
  // signed Invoke: the SDK reads no trailers).
  for (const [name, c] of [["stream-c", streamC], ["stream-rs", streamRs]]) {
    r = await invoke(c, { Payload: bytes('"fail"'), LogType: "Tail" });
    const doc = r.FunctionError ? JSON.parse(text(r.Payload)) : {};
    check(`${name}: mid-stream failure, plain Invoke`, r.StatusCode === 200 && r.FunctionError === "Unhandled" && doc.errorType === "Function.StreamFailed", r);
    check(`${name}: its Tail log`, r.LogResult !== undefined && unb64(r.LogResult).includes("REPORT RequestId: "), r);
  }

  // --- InvokeWithResponseStreamCommand ---
  for (const [name, c] of [["stream-c", streamC], ["stream-rs", streamRs]]) {
    let [r, events] = await stream(c, '"hi"', { LogType: "Tail" });
    streamHead(name, r);
    check(`${name}: PayloadChunks`, chunks(events).join("") === 'start\n"hi"\nend\n' && events[0][0] === "PayloadChunk", events);
    let done = complete(events);
    check(`${name}: success`, done.ErrorCode === undefined && done.ErrorDetails === undefined, done);
    const rid = r.$metadata.requestId;
    tail = unb64(done.LogResult);
    check(`${name}: Tail log`, tail.includes(`START RequestId: ${rid}`) && tail.includes(`REPORT RequestId: ${rid}`), tail);

    [r, events] = await stream(c, '"fail"');
    streamHead(name, r);
    done = complete(events);
    check(`${name}: mid-stream failure`, chunks(events).join("") === "start\n" && done.ErrorCode === "Function.StreamFailed" && done.LogResult === undefined, events);
    check(`${name}: ErrorDetails`, deepEqual(JSON.parse(done.ErrorDetails), { errorMessage: "failed after the first chunk", errorType: "Function.StreamFailed", stackTrace: [] }), done);
  }

  // A buffered function through InvokeWithResponseStream: its response is
  // the stream's one PayloadChunk; its client context and qualifier reach it.
  let [sr, events] = await stream(ctx, '{"buffered":1}', { ClientContext: b64(JSON.stringify(cc)), Qualifier: "live", TenantId: "tenant-s" });
  streamHead("buffered", sr);
  check("buffered: one PayloadChunk", deepEqual(events.map(([k]) => k), ["PayloadChunk", "InvokeComplete"]) && deepEqual(complete(events), {}), events);
  body = JSON.parse(chunks(events).join(""));
  check("buffered: the function's answer", body.request_id === sr.$metadata.requestId && body.event_bytes === 14, body);
  check("buffered: context", deepEqual(JSON.parse(body.client_context), cc) && body.function_arn.endsWith(":live") && body.tenant_id === "tenant-s", body);
  [sr, events] = await stream(fix, '{"echo":[1,2]}');
  check("buffered echo", chunks(events).join("") === '{"echo":[1,2]}' && deepEqual(complete(events), {}), events);

  [sr, events] = await stream(ctx, '"fail"', { LogType: "Tail" });
  let done = complete(events);
  check("buffered function error", chunks(events).length === 0 && done.ErrorCode === "Function.AskedToFail" && JSON.parse(done.ErrorDetails).errorType === "Function.AskedToFail", events);
  check("its Tail log", unb64(done.LogResult).includes("REPORT RequestId: "), done);

  [sr, events] = await stream(fix1, '"sleep"');
  done = complete(events);
  check("timeout", done.ErrorCode === "Sandbox.Timedout" && done.ErrorDetails.includes("Task timed out after 1.00 seconds"), done);
  [sr, events] = await stream(fix, '"crash"');
  done = complete(events);
  check("crash", done.ErrorCode === "Runtime.ExitError" && done.ErrorDetails.includes("exit status 3"), done);

  // Relayed as it arrives: the fixture sends its second chunk only once the
  // SDK has handed this loop the first (it waits for a file made on receipt).
  [sr, events] = await stream(fix, '"drip"', {}, (name, value) => {
    if (name === "PayloadChunk" && text(value.Payload) === "first\n") fs.writeFileSync(dripFile, "");
  });
  check("streamed as it arrives", deepEqual(chunks(events), ["first\n", "second\n"]) && deepEqual(complete(events), {}), events);

  // Twenty streams at once: each gets its own chunks and its own InvokeComplete.
  const got = await Promise.all(Array.from({ length: 20 }, (_, i) => stream(streamC, JSON.stringify({ n: i }))));
  check("20 concurrent streams", got.every(([, ev], i) => chunks(ev).join("") === `start\n{"n":${i}}\nend\n` && deepEqual(complete(ev), {})), got);
  check("20 request ids", new Set(got.map(([r]) => r.$metadata.requestId)).size === 20, got.map(([r]) => r.$metadata));

  [sr, events] = await stream(streamC, "{}", { InvocationType: "DryRun" });
  check("stream DryRun", sr.StatusCode === 204 && events.length === 0, [sr, events]);
  await failsWith("stream Event", () => stream(streamC, "{}", { InvocationType: "Event" }), "InvalidParameterValueException");
  await failsWith("stream unknown function", () => stream(streamC, "{}", { FunctionName: "nope" }), "ResourceNotFoundException", "Function not found");
  await failsWith("stream too large", () => stream(streamC, "a".repeat((6 << 20) + 2)), "RequestTooLargeException");

  console.log(`@aws-sdk/client-lambda ${sdkVersion} (node ${process.version}): ${checks} checks passed`);
}

main().catch((e) => {
  console.error("unexpected error:", e);
  process.exit(1);
});
