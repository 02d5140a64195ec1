import { fileURLToPath } from "node:url";
import { signDelivery } from "@kallima/webhooks-conformance";
import lambdaLocal from "lambda-local";
import { describe, expect, it } from "vitest";
import { eventFor, readAnswer } from "./test-support.js";

// lambda-local (the npm package) emulates the Node.js runtime's invocation: it sets the Lambda
// environment variables, imports the handler module, builds a context with awsRequestId and a
// timeout, and settles with what the handler's promise resolves to.
const handlerPath = fileURLToPath(new URL("./fixtures/lambda-local-handler.mjs", import.meta.url));
const SECRET = "whsec_lambdaLocalTestSecret_0123456789abcdef";

const body = (id: string) =>
  JSON.stringify({
    id,
    type: "webhook.test",
    api_version: "2026-04-23",
    created_at: "2026-04-23T10:00:00+00:00",
    data: { webhook_id: "wh_local" },
  });

interface Seen {
  id: string;
  sourceIp: string;
  requestId: string;
  remainingMs: number;
}

async function invoke(event: unknown): Promise<unknown> {
  return lambdaLocal.execute({
    event: event as Record<string, unknown>,
    lambdaPath: handlerPath,
    lambdaHandler: "handler",
    esm: true,
    timeoutMs: 10_000,
    verboseLevel: 0,
  });
}

describe("the built package run by lambda-local (an HTTP API payload 2.0 event)", () => {
  it("verifies a signed delivery, gives the handler the runtime's context, and refuses a forged one", async () => {
    const valid = eventFor(
      "http-api-v2",
      signDelivery(body("evt_lambda_local"), { secret: SECRET }),
    );
    const answer = readAnswer("http-api-v2", await invoke(valid));
    expect([answer.status, JSON.parse(answer.body)]).toEqual([
      200,
      { received: true, outcome: "handled" },
    ]);
    const seen = (globalThis as { lambdaLocalSeen?: Seen[] }).lambdaLocalSeen ?? [];
    expect(seen).toEqual([
      expect.objectContaining({ id: "evt_lambda_local", sourceIp: "198.51.100.7" }),
    ]);
    expect(seen[0]!.requestId).toMatch(/\S+/);
    expect(seen[0]!.remainingMs).toBeGreaterThan(0);

    const forged = eventFor("http-api-v2", signDelivery(body("evt_forged")));
    const refused = readAnswer("http-api-v2", await invoke(forged));
    expect([refused.status, JSON.parse(refused.body).error.code]).toEqual([
      401,
      "invalid_signature",
    ]);
  });
});
