import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signDelivery } from "./index.js";

/** An example app started as its own process (examples/README.md contract). */
export interface RunningExample {
  /** Base URL from the ready line, e.g. `http://127.0.0.1:41234`. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts an example as a real process on a free port (`PORT=0`) and waits for its ready line.
 *
 * @example
 * ```ts
 * const app = await startExample({ args: ["dist/main.js"], cwd: exampleDir, env: { KALLIMA_WEBHOOK_SECRET } });
 * ```
 */
export async function startExample(options: {
  /** Arguments to the current `node`. */
  args: string[];
  cwd: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}): Promise<RunningExample> {
  const child: ChildProcess = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...process.env, PORT: "0", HOST: undefined, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ready line in time:\n${stdout}${stderr}`)),
      options.timeoutMs ?? 20_000,
    );
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      const ready = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (ready) {
        clearTimeout(timer);
        resolveUrl(ready[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the app exited with ${code}:\n${stdout}${stderr}`));
    });
  });
  return {
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

export interface DeliverOptions {
  secret: string;
  /** Unix seconds to sign with (default: now). */
  timestamp?: number;
  /** Rewrites the body after it was signed. */
  tamper?: (body: string) => string;
}

/** Signs `payload` and POSTs it to `url`, optionally tampering with the body after signing. */
export async function deliverSigned(
  url: string,
  payload: object | string,
  options: DeliverOptions,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  const signed = signDelivery(text, options);
  const body = options.tamper ? options.tamper(text) : text;
  const response = await fetch(url, { method: "POST", headers: signed.headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The events whose handler ran on a webhook route (`GET` on it, per the examples contract). */
export async function handledEvents(url: string): Promise<Array<{ id: string; type: string }>> {
  const response = await fetch(url);
  return ((await response.json()) as { events: Array<{ id: string; type: string }> }).events;
}

/** The event factories of an adapter's `./testing` subpath, e.g. `import * as testing from "@kallima/webhooks-express/testing"`. */
export interface ExampleEventFactories {
  createEvent(type: string, data: Record<string, unknown>): { id: string };
  jobCompletedEvent(): { id: string };
  jobFailedEvent(): { id: string };
  webhookTestEvent(): { id: string };
}

/** What the example-specific cases registered by {@link ExampleAppSuite.cases} can reach. */
export interface ExampleAppContext {
  /** The app started for the shared cases (valid inside an `it`). */
  app(): RunningExample;
  /** The webhook route's URL on that app. */
  hooks(): string;
  /** {@link deliverSigned} with the suite's secret unless `options.secret` says otherwise. */
  deliver(
    url: string,
    payload: object | string,
    options?: Partial<DeliverOptions>,
  ): ReturnType<typeof deliverSigned>;
}

export interface ExampleAppSuite {
  /** The example's folder name, used in the suite titles: `examples/<name>`. */
  name: string;
  /** How it is started, after `examples/<name>`, e.g. "started as a process". */
  startedAs?: string;
  /** Starts the example with `env` added (`KALLIMA_WEBHOOK_SECRET: undefined` unsets it). */
  start(env: Record<string, string | undefined>): Promise<RunningExample>;
  /** A secret unique to this example; the app is started with a second, rotated one beside it. */
  secret: string;
  rotatedSecret: string;
  events: ExampleEventFactories;
  /** The webhook route's path. */
  route?: string;
  /**
   * How the route answers another method than POST or GET: `405` (core's answer, the default)
   * or `"framework"` where the adapter leaves other methods to the framework's own routing
   * (the example's own cases then assert what it answers).
   */
  otherMethods?: 405 | "framework";
  /** Asserts the exit code of a SIGTERM shutdown, where the example promises a clean one. */
  exitCodeOnStop?: number;
  /** Registers the cases specific to this example, inside the started-app suite. */
  cases?(context: ExampleAppContext): void;
}

/** The secret every example falls back to, with a warning, when `KALLIMA_WEBHOOK_SECRET` is unset. */
export const EXAMPLE_DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";

/**
 * The examples/README.md contract run against an example started as a real process: signed,
 * tampered, stale, wrong-secret and duplicate deliveries, comma-separated secrets during a
 * rotation, the event list on GET, other methods, and the demo-secret warning.
 *
 * @example
 * ```ts
 * import * as testing from "@kallima/webhooks-express/testing";
 * describeExampleApp({ name: "express", start, secret, rotatedSecret, events: testing });
 * ```
 */
export function describeExampleApp(suite: ExampleAppSuite): void {
  const route = suite.route ?? "/kallima-events";
  const { createEvent, jobCompletedEvent, jobFailedEvent, webhookTestEvent } = suite.events;
  const deliver: ExampleAppContext["deliver"] = (url, payload, options = {}) =>
    deliverSigned(url, payload, { secret: suite.secret, ...options });
  const stop = async (app: RunningExample) => {
    const code = await app.stop();
    if (suite.exitCodeOnStop !== undefined) expect(code).toBe(suite.exitCodeOnStop);
  };

  describe(`examples/${suite.name}, ${suite.startedAs ?? "started as a process"}`, () => {
    let app: RunningExample;
    let hooks: string;
    const ran = () => handledEvents(hooks);
    beforeAll(async () => {
      // During a rotation: the new secret beside the old one, comma-separated.
      app = await suite.start({
        KALLIMA_WEBHOOK_SECRET: `${suite.rotatedSecret}, ${suite.secret}`,
      });
      hooks = `${app.url}${route}`;
    }, 30_000);
    afterAll(async () => {
      if (app) await stop(app);
    });

    it("runs the handler for a signed delivery and lists it", async () => {
      const event = jobCompletedEvent();
      const response = await deliver(hooks, event);
      expect(response).toEqual({ status: 200, body: { received: true, outcome: "handled" } });
      expect(await ran()).toContainEqual({ id: event.id, type: "job.completed" });
    });

    it("rejects a tampered delivery with 401 and runs nothing", async () => {
      const event = jobCompletedEvent();
      const response = await deliver(hooks, event, {
        tamper: (body) => body.replace('"status":"completed"', '"status":"canceled"'),
      });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: { code: "invalid_signature" } });
      expect((await ran()).map((e) => e.id)).not.toContain(event.id);
    });

    it("rejects a stale delivery with 401 timestamp_too_old", async () => {
      const event = jobFailedEvent();
      const response = await deliver(hooks, event, {
        timestamp: Math.floor(Date.now() / 1000) - 600,
      });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: { code: "timestamp_too_old" } });
      expect((await ran()).map((e) => e.id)).not.toContain(event.id);
    });

    it("accepts a delivery signed with either of its comma-separated secrets", async () => {
      for (const secret of [suite.rotatedSecret, suite.secret]) {
        const event = jobCompletedEvent();
        expect((await deliver(hooks, event, { secret })).status).toBe(200);
        expect(await ran()).toContainEqual({ id: event.id, type: "job.completed" });
      }
    });

    it("rejects a delivery signed with another secret", async () => {
      const response = await deliver(hooks, jobCompletedEvent(), { secret: EXAMPLE_DEMO_SECRET });
      expect(response.status).toBe(401);
    });

    it("records job.failed and webhook.test, acknowledges an unknown type without recording it", async () => {
      const failed = jobFailedEvent();
      const test = webhookTestEvent();
      const unknown = createEvent("humanization.completed", { id: "hum_1" });
      expect((await deliver(hooks, failed)).status).toBe(200);
      expect((await deliver(hooks, unknown)).body).toEqual({
        received: true,
        outcome: "unhandled",
      });
      expect((await deliver(hooks, test)).status).toBe(200);
      const ids = (await ran()).map((e) => e.id);
      expect(ids.slice(-2)).toEqual([failed.id, test.id]);
      expect(ids).not.toContain(unknown.id);
    });

    if ((suite.otherMethods ?? 405) === 405) {
      it("answers another method 405 with Allow: POST, and still lists on GET", async () => {
        const response = await fetch(hooks, { method: "PUT", body: "{}" });
        expect([response.status, response.headers.get("allow")]).toEqual([405, "POST"]);
        expect(await response.json()).toMatchObject({ error: { code: "method_not_allowed" } });
        expect(Array.isArray(await ran())).toBe(true);
      });
    }

    it("runs the handler once for a repeated delivery", async () => {
      const event = jobCompletedEvent();
      expect((await deliver(hooks, event)).status).toBe(200);
      expect(await deliver(hooks, event)).toEqual({
        status: 200,
        body: { received: true, outcome: "duplicate" },
      });
      expect((await ran()).filter((e) => e.id === event.id)).toHaveLength(1);
    });

    suite.cases?.({ app: () => app, hooks: () => hooks, deliver });
  });

  describe(`examples/${suite.name} without KALLIMA_WEBHOOK_SECRET`, () => {
    it("warns on stderr and accepts deliveries signed with the demo secret", async () => {
      const app = await suite.start({ KALLIMA_WEBHOOK_SECRET: undefined });
      try {
        const response = await deliver(`${app.url}${route}`, webhookTestEvent(), {
          secret: EXAMPLE_DEMO_SECRET,
        });
        expect(response.status).toBe(200);
        // stderr is a separate pipe from the ready line on stdout: wait for it rather than race it.
        await expect.poll(app.stderr).toContain("KALLIMA_WEBHOOK_SECRET is not set");
      } finally {
        await stop(app);
      }
    }, 30_000);
  });
}
