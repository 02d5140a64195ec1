import {
  expectExportParity,
  runConformanceSuite,
  signDelivery,
} from "@kallima/webhooks-conformance";
import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createWebhookHandler,
  kallimaWebhooks,
  type LambdaWebhookContext,
  memoryStore,
  verifyKallimaWebhook,
  WebhookConfigError,
} from "./index.js";
import {
  eventFor,
  fixture,
  type InvokedHandler,
  invokeApp,
  lambdaContext,
  readAnswer,
  SOURCES,
  type SourceFixture,
} from "./test-support.js";

const SECRET = "whsec_lambdaAdapterTestSecret_0123456789abcd";

beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** True for the `{ event, context }` of an invocation, as the README promises handlers. */
function isInvocation(value: unknown): value is LambdaWebhookContext {
  const { event, context } = (value ?? {}) as Partial<LambdaWebhookContext>;
  return (
    typeof event === "object" &&
    event !== null &&
    "requestContext" in event &&
    typeof context?.awsRequestId === "string" &&
    typeof context.getRemainingTimeInMillis === "function"
  );
}

for (const [label, source] of Object.entries(SOURCES)) {
  runConformanceSuite(`lambda: ${label}`, {
    setup: (options) => invokeApp(source, kallimaWebhooks(options as never)),
    contract: {
      isFrameworkContext: isInvocation,
      setupVerifyOnly: (options) =>
        invokeApp(
          source,
          verifyKallimaWebhook(
            options as never,
            (kallimaEvent) =>
              ({
                statusCode: 200,
                headers: { "content-type": "application/json" },
                ...(source === "alb-multi-value"
                  ? {
                      multiValueHeaders: { "content-type": ["application/json"] },
                      headers: undefined,
                    }
                  : {}),
                ...(source.startsWith("alb") ? { statusDescription: "200 OK" } : {}),
                body: JSON.stringify({ verified: kallimaEvent.id }),
                isBase64Encoded: false,
              }) as never,
          ) as InvokedHandler,
        ),
    },
  });
}

it("re-exports the core's whole surface beside kallimaWebhooks and verifyKallimaWebhook", async () => {
  expectExportParity(await import("./index.js"), await import("@kallima/webhooks"));
});

it("re-exports the core's testing helpers from ./testing", async () => {
  const testing = await import("./testing.js");
  const core = await import("@kallima/webhooks/testing");
  expect(Object.keys(testing).sort()).toEqual(Object.keys(core).sort());
  expect(testing.signPayload).toBe(core.signPayload);
});

const eventJson = (id: string) =>
  JSON.stringify({
    id,
    type: "webhook.test",
    api_version: "2026-04-23",
    created_at: "2026-04-23T10:00:00+00:00",
    data: { webhook_id: "wh_1" },
  });

const codeOf = (body: string) => (JSON.parse(body) as { error?: { code?: string } }).error?.code;

describe("the fixtures (AWS's documented event shapes)", () => {
  it.each(Object.values(SOURCES))(
    "%s: each source is recognised by its own fields",
    async (source) => {
      const seen: LambdaWebhookContext[] = [];
      const handler = kallimaWebhooks({
        secret: SECRET,
        on: { "webhook.test": (_event, invocation) => void seen.push(invocation) },
      });
      const event = eventFor(source, signDelivery(eventJson(`evt_${source}`), { secret: SECRET }));
      const answer = readAnswer(source, await handler(event, lambdaContext()));
      expect(answer.status).toBe(200);
      expect(seen[0]?.event).toBe(event);
    },
  );

  it("a fixture as stored is a valid event whose signature the function checks", async () => {
    const handler = kallimaWebhooks({ secret: SECRET });
    for (const source of Object.values(SOURCES)) {
      const answer = readAnswer(source, await handler(fixture(source), lambdaContext()));
      // Unsigned: the stored body reaches the verifier, which finds no signature.
      expect([answer.status, codeOf(answer.body)]).toEqual([400, "missing_signature"]);
    }
  });
});

describe("bodies", () => {
  const send = async (source: SourceFixture, event: LambdaWebhookContext["event"]) => {
    const handler = kallimaWebhooks({ secret: SECRET, on: { "webhook.test": () => {} } });
    return readAnswer(source, await handler(event, lambdaContext()));
  };

  it("verifies a base64 body over its decoded bytes, and refuses the base64 text itself", async () => {
    const delivery = signDelivery(eventJson("evt_b64"), { secret: SECRET });
    const event = eventFor("http-api-v2", {
      ...delivery,
      headers: { ...delivery.headers, "content-type": "application/octet-stream" },
    }) as APIGatewayProxyEventV2;
    expect(event.isBase64Encoded).toBe(true);
    expect((await send("http-api-v2", event)).status).toBe(200);
    // The same text, not marked base64: those are other bytes, so the signature does not match.
    const unmarked = { ...event, isBase64Encoded: false };
    const answer = await send("http-api-v2", unmarked);
    expect([answer.status, codeOf(answer.body)]).toEqual([401, "invalid_signature"]);
  });

  it("verifies bytes that are not UTF-8 when the source base64-encodes them (then rejects them as not JSON)", async () => {
    const bytes = new Uint8Array([
      ...Buffer.from('{"id":"evt_x","data":"'),
      0xff,
      0xfe,
      ...Buffer.from('"}'),
    ]);
    const event = eventFor("alb", signDelivery(bytes, { secret: SECRET }));
    expect((event as ALBEvent).isBase64Encoded).toBe(true);
    const answer = await send("alb", event);
    // 400, not 401: the signature matched the exact bytes.
    expect([answer.status, codeOf(answer.body)]).toEqual([400, "invalid_payload"]);
  });

  it("answers 413 for a base64 body over maxBodyBytes without decoding it", async () => {
    const handler = kallimaWebhooks({ secret: SECRET, maxBodyBytes: 1024 });
    const event = eventFor("api-gateway-rest", signDelivery("x".repeat(4096), { secret: SECRET }));
    const answer = readAnswer("api-gateway-rest", await handler(event, lambdaContext()));
    expect([answer.status, codeOf(answer.body)]).toEqual([413, "payload_too_large"]);
  });

  it("treats an absent or null body as empty", async () => {
    const event = eventFor(
      "api-gateway-rest",
      signDelivery("", { secret: SECRET }),
    ) as APIGatewayProxyEvent;
    const answer = await send("api-gateway-rest", { ...event, body: null });
    expect([answer.status, codeOf(answer.body)]).toEqual([400, "invalid_payload"]);
  });
});

describe("headers", () => {
  it("reads mixed-case names, and refuses a signature header repeated in multiValueHeaders", async () => {
    const delivery = signDelivery(eventJson("evt_repeat"), { secret: SECRET });
    const event = eventFor("api-gateway-rest", delivery) as APIGatewayProxyEvent;
    expect(Object.keys(event.headers)).toContain("X-Kallima-Signature");
    const signature = delivery.headers["x-kallima-signature"]!;
    // API Gateway keeps the last copy in `headers` and every copy in `multiValueHeaders`.
    // Both copies valid: joined as "a, a" they would read as a list of two signatures and pass.
    event.multiValueHeaders["X-Kallima-Signature"] = [signature, signature];
    event.headers["X-Kallima-Signature"] = signature;
    const handler = kallimaWebhooks({ secret: SECRET });
    const answer = readAnswer("api-gateway-rest", await handler(event, lambdaContext()));
    expect([answer.status, codeOf(answer.body)]).toEqual([401, "invalid_signature"]);
    const once = readAnswer(
      "api-gateway-rest",
      await handler(eventFor("api-gateway-rest", delivery), lambdaContext()),
    );
    expect(once.status).toBe(200);
  });

  it("counts two spellings of one name as a repeated header", async () => {
    const delivery = signDelivery(eventJson("evt_two_cases"), { secret: SECRET });
    const event = eventFor("alb", delivery) as ALBEvent;
    event.headers = {
      ...event.headers,
      "X-Kallima-Signature": delivery.headers["x-kallima-signature"]!,
    };
    const answer = readAnswer(
      "alb",
      await kallimaWebhooks({ secret: SECRET })(event, lambdaContext()),
    );
    expect([answer.status, codeOf(answer.body)]).toEqual([401, "invalid_signature"]);
  });

  it("reads headers when a REST test invocation sends multiValueHeaders as null", async () => {
    const delivery = signDelivery(eventJson("evt_null_multi"), { secret: SECRET });
    const event = eventFor("api-gateway-rest", delivery) as APIGatewayProxyEvent;
    const answer = readAnswer(
      "api-gateway-rest",
      await kallimaWebhooks({ secret: SECRET })(
        { ...event, multiValueHeaders: null as never },
        lambdaContext(),
      ),
    );
    expect(answer.status).toBe(200);
  });
});

describe("answers", () => {
  it("answers ALB with statusDescription, and with multiValueHeaders only when the request had them", async () => {
    const handler = kallimaWebhooks({ secret: SECRET });
    const plain = (await handler(fixture<ALBEvent>("alb"), lambdaContext())) as Record<
      string,
      unknown
    >;
    expect(plain).toMatchObject({ statusCode: 400, statusDescription: "400 Bad Request" });
    expect(plain.headers).toMatchObject({ "content-type": "application/json; charset=utf-8" });
    expect(plain.multiValueHeaders).toBeUndefined();
    const multi = (await handler(fixture<ALBEvent>("alb-multi-value"), lambdaContext())) as Record<
      string,
      unknown
    >;
    expect(multi.multiValueHeaders).toMatchObject({
      "content-type": ["application/json; charset=utf-8"],
    });
    expect(multi.headers).toBeUndefined();
  });

  it("answers another method with 405 and Allow: POST in each source's shape", async () => {
    for (const source of Object.values(SOURCES)) {
      let runs = 0;
      const handler = kallimaWebhooks({
        secret: SECRET,
        on: { "webhook.test": () => void runs++ },
      });
      const event = eventFor(source, {
        ...signDelivery(eventJson("evt_get"), { secret: SECRET }),
        method: "GET",
      });
      const answer = readAnswer(source, await handler(event, lambdaContext()));
      expect([answer.status, answer.headers.allow]).toEqual([405, "POST"]);
      expect(runs).toBe(0);
    }
  });
});

describe("handlers and the context", () => {
  it("gives handlers and the secret function the invocation's { event, context }", async () => {
    const seen: unknown[] = [];
    const context = lambdaContext({ functionName: "orders-webhooks" });
    const handler = kallimaWebhooks<APIGatewayProxyEventV2>({
      secret: ({ context }) => {
        seen.push(context.functionName);
        return SECRET;
      },
      on: {
        "webhook.test": (event, { event: lambdaEvent, context }) => {
          seen.push(event.id, lambdaEvent.requestContext.http.sourceIp, context.awsRequestId);
        },
      },
    });
    const event = eventFor("http-api-v2", signDelivery(eventJson("evt_ctx"), { secret: SECRET }));
    await handler(event as APIGatewayProxyEventV2, context);
    expect(seen).toEqual(["orders-webhooks", "evt_ctx", "198.51.100.7", context.awsRequestId]);
  });

  it("shares one dedupe store across warm invocations of one module-scope handler", async () => {
    let runs = 0;
    const handler = kallimaWebhooks({ secret: SECRET, on: { "webhook.test": () => void runs++ } });
    const body = eventJson("evt_warm");
    const first = readAnswer(
      "function-url",
      await handler(
        eventFor("function-url", signDelivery(body, { secret: SECRET })),
        lambdaContext(),
      ),
    );
    const again = readAnswer(
      "function-url",
      await handler(
        eventFor("function-url", signDelivery(body, { secret: SECRET })),
        lambdaContext(),
      ),
    );
    expect(JSON.parse(first.body)).toMatchObject({ outcome: "handled" });
    expect(JSON.parse(again.body)).toMatchObject({ outcome: "duplicate" });
    expect(runs).toBe(1);
  });
});

describe("verifyKallimaWebhook (verify-only)", () => {
  it("hands the verified event and { event, context } to the route, whose answer is returned", async () => {
    const handler = verifyKallimaWebhook<APIGatewayProxyEventV2>(
      { secret: SECRET },
      (kallimaEvent, { event }) => ({
        statusCode: 202,
        body: `${kallimaEvent.id} via ${event.requestContext.http.method}`,
      }),
    );
    const event = eventFor("http-api-v2", signDelivery(eventJson("evt_route"), { secret: SECRET }));
    expect(await handler(event as APIGatewayProxyEventV2, lambdaContext())).toEqual({
      statusCode: 202,
      body: "evt_route via POST",
    });
  });

  it("answers a forged delivery itself, in the source's shape, and the route does not run", async () => {
    let reached = 0;
    const handler = verifyKallimaWebhook({ secret: SECRET }, () => {
      reached++;
      return { statusCode: 200, body: "" };
    });
    const event = eventFor("alb-multi-value", signDelivery(eventJson("evt_forged")));
    const answer = readAnswer("alb-multi-value", await handler(event, lambdaContext()));
    expect([answer.status, codeOf(answer.body)]).toEqual([401, "invalid_signature"]);
    expect(reached).toBe(0);
  });
});

describe("construction", () => {
  it("throws WebhookConfigError at start-up for a bad static secret", () => {
    expect(() => kallimaWebhooks({ secret: "not-a-secret" })).toThrow(WebhookConfigError);
    expect(() =>
      verifyKallimaWebhook({ secret: "" }, () => ({ statusCode: 200, body: "" })),
    ).toThrow(WebhookConfigError);
  });

  it("accepts a handler made with createWebhookHandler, with handlers added by .on()", async () => {
    const seen: string[] = [];
    const webhooks = createWebhookHandler({
      secret: SECRET,
      idempotency: { store: memoryStore() },
    }).on("webhook.test", (event) => void seen.push(event.id));
    const handler = kallimaWebhooks(webhooks);
    const event = eventFor(
      "api-gateway-rest",
      signDelivery(eventJson("evt_made"), { secret: SECRET }),
    );
    expect(readAnswer("api-gateway-rest", await handler(event, lambdaContext())).status).toBe(200);
    expect(seen).toEqual(["evt_made"]);
  });
});
