// Handlers for tests/third_party.rs, run by AWS's Node.js runtime interface
// client (aws-lambda-ric, `make node-ric`) under faas-rie, as Lambda's
// Node.js runtime would run them. The event's "kind" picks what to do.
import { existsSync } from "node:fs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const handler = async (event, context) => {
  switch (event.kind) {
    case "context":
      return {
        requestId: context.awsRequestId,
        arn: context.invokedFunctionArn,
        remaining: context.getRemainingTimeInMillis(),
        clientContext: context.clientContext ?? null,
        traceId: process.env._X_AMZN_TRACE_ID ?? null,
      };
    case "throw":
      throw new TypeError("thrown by the handler");
    case "reject":
      return Promise.reject(new RangeError("a rejected promise"));
    case "long error":
      throw new Error("E".repeat(event.n));
    case "long line":
      // One log line longer than a pipe holds, written without waiting.
      console.log("L".repeat(event.n));
      return "logged";
    case "exit":
      process.exit(3);
    default:
      console.log("node handler got", JSON.stringify(event));
      return event;
  }
};

// A streamed response: "drip" sends a chunk, then the next only once the
// caller has seen the first (it creates event.file); "fail" throws midway.
export const stream = awslambda.streamifyResponse(async (event, out) => {
  out.write("first\n");
  if (event.kind === "fail") {
    await sleep(100);
    throw new RangeError("the stream broke");
  }
  for (let i = 0; i < 400 && !existsSync(event.file); i++) {
    await sleep(50);
  }
  out.write(existsSync(event.file) ? "second\n" : "no file\n");
  out.end();
});
