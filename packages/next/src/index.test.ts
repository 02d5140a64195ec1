import { createSignedRequest, jobCompletedEvent, signPayload } from "@kallima/webhooks/testing";
import {
  type ConformanceRequest,
  expectExportParity,
  fromFetchResponse,
  runConformanceSuite,
  signDelivery,
} from "@kallima/webhooks-conformance";
import { describe, expect, it, vi } from "vitest";
import {
  createWebhookHandler,
  isEventType,
  type KallimaRouteContext,
  kallimaWebhooks,
  type NextRouteContext,
  verifyKallimaWebhook,
  WebhookConfigError,
} from "./index.js";

const SECRET = "whsec_nextAdapterTestSecret_0123456789abcdef";
const URL_ = "http://localhost/kallima-events";

// What Next.js passes a route handler besides the request, as it gives it (a Promise).
const PARAMS = Promise.resolve({ tenant: "acme" });
const ROUTE_CONTEXT: NextRouteContext = { params: PARAMS };
const isRouteContext = (context: unknown): boolean =>
  typeof context === "object" &&
  context !== null &&
  (context as KallimaRouteContext).request instanceof Request &&
  (context as KallimaRouteContext).params === PARAMS;

const toRequest = ({ method = "POST", headers, body }: ConformanceRequest) =>
  new Request(URL_, { method, headers, body });

const quiet = { error() {}, warn() {} };

function recordingLogger() {
  const lines: Array<{ level: string; code: string; status: number }> = [];
  const logger = {
    error: (_line: string, details: { code: string; status: number }) =>
      void lines.push({ level: "error", ...details }),
    warn: (_line: string, details: { code: string; status: number }) =>
      void lines.push({ level: "warn", ...details }),
  };
  return { logger, lines };
}

// Route handlers receive a Fetch Request from Next.js, on the Node.js and on the Edge runtime alike.
runConformanceSuite("next App Router route handler", {
  setup(options) {
    const POST = kallimaWebhooks(options as never);
    return {
      send: async (request) => fromFetchResponse(await POST(toRequest(request), ROUTE_CONTEXT)),
    };
  },
  contract: {
    isFrameworkContext: isRouteContext,
    async setupVerifyOnly(options) {
      // The app's own route, verifying first, as the README shows it.
      const POST = async (request: Request, routeContext: NextRouteContext) => {
        const verified = await verifyKallimaWebhook(request, options as never, routeContext);
        if (!verified.ok) return verified.response;
        return Response.json({ verified: verified.event.id });
      };
      // The helper is called per request, so it meets its options on the first one: a request
      // of another method, answered 405 without reading a body (and not logged).
      await POST(new Request(URL_, { method: "GET" }), ROUTE_CONTEXT);
      return {
        send: async (request) => fromFetchResponse(await POST(toRequest(request), ROUTE_CONTEXT)),
      };
    },
  },
});

it("re-exports the core's whole surface, so that users install one package", async () => {
  expectExportParity(await import("./index.js"), await import("@kallima/webhooks"));
});

it("re-exports the core's testing helpers from ./testing", async () => {
  const adapter: Record<string, unknown> = await import("./testing.js");
  const core: Record<string, unknown> = await import("@kallima/webhooks/testing");
  expect(Object.keys(core).filter((name) => adapter[name] !== core[name])).toEqual([]);
});

describe("kallimaWebhooks", () => {
  it("gives handlers the request and the route's params as Next.js passes them", async () => {
    const contexts: KallimaRouteContext<{ tenant: string }>[] = [];
    const POST = kallimaWebhooks<{ tenant: string }>({
      secret: SECRET,
      logger: false,
      on: { "job.completed": (_event, context) => void contexts.push(context) },
    });
    const request = await createSignedRequest({
      secret: SECRET,
      payload: jobCompletedEvent(),
      url: URL_,
    });
    expect((await POST(request, { params: PARAMS })).status).toBe(200);
    expect(contexts).toHaveLength(1);
    expect(contexts[0]!.request).toBe(request);
    expect(await contexts[0]!.params).toEqual({ tenant: "acme" });
  });

  it("takes the secret from a function of the route's params (one endpoint per tenant)", async () => {
    const secrets: Record<string, string> = { acme: SECRET };
    const POST = kallimaWebhooks<{ tenant: string }>({
      secret: async ({ params }) => secrets[(await params).tenant] ?? "",
      logger: false,
    });
    const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
    const send = (tenant: string) =>
      POST(new Request(URL_, { method: "POST", headers: signed.headers, body: signed.body }), {
        params: Promise.resolve({ tenant }),
      });
    expect((await send("acme")).status).toBe(200);
    expect((await send("globex")).status).toBe(500);
  });

  it("accepts a handler made with createWebhookHandler and shares its state between routes", async () => {
    const seen: string[] = [];
    const webhooks = createWebhookHandler<KallimaRouteContext>({ secret: SECRET }).on(
      "job.completed",
      (event) => void seen.push(event.data.id),
    );
    const nodeRoute = kallimaWebhooks(webhooks);
    const otherRoute = kallimaWebhooks(webhooks);
    const event = jobCompletedEvent({ data: { id: "job_shared", status: "completed" } });
    const signed = await signPayload({ secret: SECRET, payload: event });
    const send = (route: typeof nodeRoute) =>
      route(
        new Request(URL_, { method: "POST", headers: signed.headers, body: signed.body }),
        ROUTE_CONTEXT,
      );

    expect((await send(nodeRoute)).status).toBe(200);
    const repeat = await send(otherRoute);
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toEqual({ received: true, outcome: "duplicate" });
    expect(seen).toEqual(["job_shared"]);
  });

  it("answers 500 raw_body_unavailable when something read the body first", async () => {
    const POST = kallimaWebhooks({ secret: SECRET, logger: false });
    const request = await createSignedRequest({
      secret: SECRET,
      payload: jobCompletedEvent(),
      url: URL_,
    });
    await request.text();
    const response = await POST(request, ROUTE_CONTEXT);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "raw_body_unavailable" } });
  });

  // `next build` evaluates route modules, and Docker and CI builds often get secrets only at run time.
  it.each([
    ["absent", undefined],
    ["empty", ""],
  ])(
    "builds with the secret %s (as next build does), then answers 500 invalid_secret and logs it",
    async (_label, secret) => {
      const { logger, lines } = recordingLogger();
      let runs = 0;
      const POST = kallimaWebhooks({
        secret: secret as unknown as string,
        logger,
        on: { "job.completed": () => void runs++ },
      });
      const request = await createSignedRequest({
        secret: SECRET,
        payload: jobCompletedEvent(),
        url: URL_,
      });
      const response = await POST(request, ROUTE_CONTEXT);
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_secret" } });
      expect(lines).toEqual([expect.objectContaining({ level: "error", code: "invalid_secret" })]);
      expect(runs).toBe(0);
    },
  );

  it("still throws at once for options that are wrong whatever the environment", () => {
    expect(() =>
      kallimaWebhooks({ secret: SECRET, on: { "job.completed": "nope" as never } }),
    ).toThrow(WebhookConfigError);
  });

  it("logs to console by default", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const POST = kallimaWebhooks({ secret: SECRET });
      const forged = signDelivery(JSON.stringify(jobCompletedEvent()), { secret: `${SECRET}x` });
      expect((await POST(toRequest(forged), ROUTE_CONTEXT)).status).toBe(401);
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining("invalid_signature"),
        expect.objectContaining({ code: "invalid_signature", status: 401 }),
      );
    } finally {
      warn.mockRestore();
    }
  });
});

describe("verifyKallimaWebhook", () => {
  const options = { secret: SECRET, logger: false as const };
  const signedRequest = async (payload = jobCompletedEvent()) => {
    const signed = await signPayload({ secret: SECRET, payload });
    return new Request(URL_, { method: "POST", headers: signed.headers, body: signed.body });
  };

  it("gives the typed event of an authentic delivery", async () => {
    const event = jobCompletedEvent({ data: { id: "job_typed", status: "completed" } });
    const verified = await verifyKallimaWebhook(await signedRequest(event), options);
    if (!verified.ok) throw new Error("expected an authentic delivery");
    expect(verified.event).toEqual(event);
    if (!isEventType(verified.event, "job.completed")) throw new Error("expected job.completed");
    expect(verified.event.data.id).toBe("job_typed");
  });

  it.each([
    ["a tampered body", "tampered", 401, "invalid_signature"],
    ["a stale timestamp", "stale", 401, "timestamp_too_old"],
    ["a body over maxBodyBytes", "large", 413, "payload_too_large"],
    ["a body read before", "read", 500, "raw_body_unavailable"],
    ["another method", "get", 405, "method_not_allowed"],
  ] as const)(
    "gives the core's answer to return as is for %s",
    async (_label, defect, status, code) => {
      const body = JSON.stringify(jobCompletedEvent());
      const signed = signDelivery(body, {
        secret: SECRET,
        ...(defect === "stale" ? { timestamp: Math.floor(Date.now() / 1000) - 3600 } : {}),
      });
      const request = new Request(URL_, {
        method: defect === "get" ? "GET" : "POST",
        headers: signed.headers,
        ...(defect === "get"
          ? {}
          : { body: defect === "tampered" ? body.replace("job.completed", "job.failed") : body }),
      });
      if (defect === "read") await request.text();
      const verified = await verifyKallimaWebhook(
        request,
        defect === "large" ? { ...options, maxBodyBytes: 16 } : options,
      );
      if (verified.ok) throw new Error("expected a refusal");
      expect(verified.response.status).toBe(status);
      expect(await verified.response.json()).toMatchObject({ error: { code } });
      if (defect === "get") expect(verified.response.headers.get("allow")).toBe("POST");
    },
  );

  it("answers a missing secret with 500 invalid_secret instead of throwing", async () => {
    const { logger, lines } = recordingLogger();
    const verified = await verifyKallimaWebhook(await signedRequest(), {
      secret: undefined as unknown as string,
      logger,
    });
    if (verified.ok) throw new Error("expected a refusal");
    expect(verified.response.status).toBe(500);
    expect(await verified.response.json()).toMatchObject({ error: { code: "invalid_secret" } });
    expect(lines).toEqual([expect.objectContaining({ level: "error", code: "invalid_secret" })]);
  });

  it("refuses handler options: it only verifies", async () => {
    const attempt = verifyKallimaWebhook(await signedRequest(), {
      secret: SECRET,
      on: { "job.completed": () => {} },
    } as never);
    await expect(attempt).rejects.toMatchObject({ code: "invalid_option" });
  });

  it("gives a secret function the route's params when the route passes its context", async () => {
    const verified = await verifyKallimaWebhook(
      await signedRequest(),
      {
        secret: async ({ params }: KallimaRouteContext<{ tenant: string }>) =>
          (await params).tenant === "acme" ? SECRET : "",
        logger: false,
      },
      { params: PARAMS },
    );
    expect(verified.ok).toBe(true);
  });

  it("only verifies with a handler made by createWebhookHandler: no handler runs, no dedupe", async () => {
    let ran = 0;
    const withHandlers = createWebhookHandler({ secret: SECRET }).on("job.completed", () => {
      ran += 1;
    });
    const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
    const request = () =>
      new Request(URL_, { method: "POST", headers: signed.headers, body: signed.body });
    const first = await verifyKallimaWebhook(request(), withHandlers);
    const second = await verifyKallimaWebhook(request(), withHandlers);
    expect(second).toEqual(first);
    expect(second.ok).toBe(true);
    expect(ran).toBe(0);
  });
});

describe("repeated signature headers on the App Router (README: what Fetch can tell apart)", () => {
  // A Fetch Request has no raw header list: Headers joins a repeated header into one "a, b"
  // value, which is what the route handler sees.
  const body = JSON.stringify(jobCompletedEvent());
  const pair = signDelivery(body, { secret: SECRET }).headers;
  const combined = signDelivery(body, { secret: SECRET, format: "kallima-signature" }).headers;
  it.each([
    ["X-Kallima-Signature twice (same value): a list of two", "x-kallima-signature", pair, 200],
    ["X-Kallima-Timestamp twice: not digits", "x-kallima-timestamp", pair, 400],
    ["Kallima-Signature twice: two t= items", "kallima-signature", combined, 400],
  ] as const)("%s", async (_label, repeated, signed, status) => {
    const headers = new Headers(signed);
    headers.append(repeated, signed[repeated as keyof typeof signed]!);
    const POST = kallimaWebhooks({ secret: SECRET, logger: quiet });
    const response = await POST(
      new Request(URL_, { method: "POST", headers, body }),
      ROUTE_CONTEXT,
    );
    expect(response.status).toBe(status);
    if (status === 400) {
      expect(await response.json()).toMatchObject({ error: { code: "invalid_timestamp" } });
    }
  });
});
