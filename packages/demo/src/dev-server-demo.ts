import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createWebhookHandler } from "@kallima/webhooks";
import { handleNodeRequest } from "@kallima/webhooks/node";
import { KallimaClient, type WebhookWithSecret } from "@kallima/webhooks-client";
import {
  compressSchedule,
  type DeliveryAttempt,
  type DevServer,
  REALISTIC_RETRY_DELAYS_MS,
  startDevServer,
  type WebhookDeliveryObject,
} from "@kallima/webhooks-dev";
import { ChildGroup, groupAlive, type RunningChild } from "./children.js";
import { exampleEnv, freePort } from "./demo.js";
import { FRAMEWORKS } from "./frameworks.js";
import type { Paint, Writable } from "./output.js";

/** Options of {@link runDevServerDemo}. */
export interface DevServerDemoOptions {
  root: string;
  /** Default `<root>/examples`. */
  examplesDir?: string;
  /** Example ids to register (default all four). */
  only?: string[];
  readyTimeoutMs?: number;
  out: Writable;
  paint: Paint;
}

/** What the section saw; `ok` when every check held. */
export interface DevServerDemoReport {
  ok: boolean;
  /** One line per check that did not hold. */
  problems: string[];
}

/** Realistic retry delays divided by 1000: 5 ms, 300 ms, 1.8 s, … */
const RETRY_DELAYS_MS = compressSchedule(REALISTIC_RETRY_DELAYS_MS, 1000);

interface Endpoint {
  label: string;
  webhook: WebhookWithSecret;
  /** The example's directory and start script, to start (and restart) it. */
  example?: { dir: string; start: string; port: number; child?: RunningChild };
}

/**
 * A call to one of the dev server's own routes (`/v1/dev/…`: trigger events, list attempts),
 * which Kallima's API does not have and so the client does not either.
 */
async function devOnly<T>(
  dev: DevServer,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${dev.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(50);
  }
  return false;
}

/**
 * A receiver whose handler fails twice (a database that is down), then works: the core answers
 * 500 each time, so Kallima (here, the dev server) retries until the handler succeeds.
 */
async function startFlakyReceiver(): Promise<{
  url: string;
  ran: string[];
  useSecret(secret: string): void;
  close(): Promise<void>;
}> {
  let secret = "whsec_notIssuedYet_0000000000000000000000";
  let failuresLeft = 2;
  const ran: string[] = [];
  const handler = createWebhookHandler({
    secret: () => secret,
    on: {
      "job.completed": (event) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error("the database is down");
        }
        ran.push(event.id);
      },
    },
    onUnhandled: () => undefined,
    logger: { warn: () => undefined, error: () => undefined },
  });
  const server: Server = createServer((req, res) => void handleNodeRequest(handler, req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/kallima-events`,
    ran,
    useSecret: (value) => {
      secret = value;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function startScript(dir: string): string | undefined {
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) return undefined;
  const start = (JSON.parse(readFileSync(manifest, "utf8")) as { scripts?: { start?: string } })
    .scripts?.start;
  if (typeof start !== "string") return undefined;
  // The first section built the Next.js app already; building it again costs a minute.
  return existsSync(join(dir, ".next", "BUILD_ID")) ? start.replace(/\s--build\b/, "") : start;
}

async function stopChild(child: RunningChild): Promise<void> {
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (groupAlive(child.pid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
}

/**
 * The `kallima-webhooks dev` section of `pnpm demo`: a local Kallima sender, driven through the
 * typed client (`@kallima/webhooks-client`) as a user would drive Kallima, registers every example
 * as an endpoint, fires a test event and job events at them, retries a failing handler until it
 * succeeds, rotates a secret (deliveries fail until the example has the new one, then succeed on
 * retry), and prints the delivery history.
 */
export async function runDevServerDemo(
  options: DevServerDemoOptions,
): Promise<DevServerDemoReport> {
  const { out, paint } = options;
  const problems: string[] = [];
  const check = (ok: boolean, line: string, problem: string) => {
    out.write(`${ok ? paint.ok("✓") : paint.bad("✗")} ${line}\n`);
    if (!ok) problems.push(problem);
  };
  const examplesDir = options.examplesDir ?? join(options.root, "examples");
  const group = new ChildGroup();
  const killOnExit = () => group.killAllNow();
  process.once("exit", killOnExit);
  // The dev server asks for an API key as Kallima does; the client sends it.
  const apiKey = `kal_demo_${randomBytes(12).toString("hex")}`;
  const dev = await startDevServer({ port: 0, apiKey, retryDelaysMs: RETRY_DELAYS_MS });
  const kallima = new KallimaClient({ apiKey, baseUrl: dev.url });
  const flaky = await startFlakyReceiver();
  out.write(
    `\n${paint.bold("kallima-webhooks dev")}: a local Kallima sender at ${dev.url} (retries ${RETRY_DELAYS_MS.slice(0, 3).join(", ")} ms, …), driven with @kallima/webhooks-client\n`,
  );

  try {
    // 1. Register every example (its main webhook route) as an endpoint, then start it with the
    //    secret the registration answered, as a deploy would.
    const endpoints: Endpoint[] = [];
    const selected = FRAMEWORKS.filter((f) => !options.only || options.only.includes(f.id));
    for (const framework of selected) {
      const dir = join(examplesDir, framework.id);
      const start = startScript(dir);
      if (!start) {
        check(false, `${framework.label}: no start script`, `${framework.id}: no start script`);
        continue;
      }
      const port = await freePort();
      const route = framework.routes[0]!;
      const webhook = await kallima.webhooks.create({
        url: `http://127.0.0.1:${port}${route.path}`,
      });
      endpoints.push({ label: framework.label, webhook, example: { dir, start, port } });
    }
    const flakyWebhook = await kallima.webhooks.create({
      url: flaky.url,
      events: ["job.completed"],
    });
    flaky.useSecret(flakyWebhook.secret);
    endpoints.push({ label: "flaky handler", webhook: flakyWebhook });

    // Several secrets go comma-separated in KALLIMA_WEBHOOK_SECRET (examples/README.md).
    const startExample = async (endpoint: Endpoint, secrets = [endpoint.webhook.secret]) => {
      const example = endpoint.example!;
      example.child = await group.start({
        name: endpoint.label,
        cwd: example.dir,
        script: example.start,
        env: exampleEnv(options.root, example.dir, example.port, secrets.join(",")),
        readyTimeoutMs: options.readyTimeoutMs ?? 240_000,
      });
    };
    const started = await Promise.allSettled(
      endpoints.filter((endpoint) => endpoint.example).map((endpoint) => startExample(endpoint)),
    );
    for (const [index, result] of started.entries()) {
      const endpoint = endpoints[index]!;
      check(
        result.status === "fulfilled",
        `${endpoint.label} registered as ${endpoint.webhook.id} and started with its secret`,
        `${endpoint.label} did not start: ${result.status === "rejected" ? String(result.reason) : ""}`,
      );
    }
    const live = endpoints.filter((endpoint) => !endpoint.example || endpoint.example.child);

    // 2. "Fire a test event" at each example.
    for (const endpoint of live.filter((e) => e.example)) {
      const delivery = await kallima.webhooks.test(endpoint.webhook.id);
      check(
        delivery.response_status === 200,
        `test event → ${endpoint.label}: ${delivery.response_status}`,
        `${endpoint.label}: the test event was answered ${delivery.response_status}`,
      );
    }

    // 3. Job events to every endpoint subscribed (the flaky one takes job.completed only).
    const jobs = await devOnly<{ deliveries: WebhookDeliveryObject[] }>(
      dev,
      apiKey,
      "POST",
      "/v1/dev/events",
      { events: [{ type: "job.completed" }, { type: "job.failed" }] },
    );
    const flakyDelivery = jobs.deliveries.find((d) => d.webhook_id === flakyWebhook.id);
    for (const endpoint of live.filter((e) => e.example)) {
      const statuses = jobs.deliveries
        .filter((d) => d.webhook_id === endpoint.webhook.id)
        .map((d) => `${d.event_type} ${d.response_status}`);
      check(
        statuses.length === 2 && statuses.every((s) => s.endsWith(" 200")),
        `job events → ${endpoint.label}: ${statuses.join(", ")}`,
        `${endpoint.label}: job events answered ${statuses.join(", ")}`,
      );
    }

    // 4. The failing handler: retried on the schedule until it succeeds, and it ran once.
    const retried = await waitFor(
      async () =>
        flakyDelivery !== undefined &&
        (await kallima.webhooks.listDeliveries(flakyWebhook.id)).some(
          (delivery) => delivery.id === flakyDelivery.id && delivery.delivered_at !== null,
        ),
      10_000,
    );
    const flakyAttempts = flakyDelivery
      ? await devOnly<DeliveryAttempt[]>(
          dev,
          apiKey,
          "GET",
          `/v1/dev/deliveries/${flakyDelivery.id}/attempts`,
        )
      : [];
    check(
      retried && flaky.ran.length === 1,
      `a handler failing twice: attempts ${flakyAttempts.map((a) => a.response_status).join(" → ")}, handler ran ${flaky.ran.length} time(s)`,
      "the failing handler was not retried to one success",
    );

    // 5. Rotation: the first example misses it (deliveries fail), then gets the new secret beside
    //    the old one (restarted with both, as the CLI's rotate advises) and the failed delivery is
    //    retried.
    const rotating = live.find((endpoint) => endpoint.example?.child);
    if (rotating) {
      const rotated = await kallima.webhooks.rotateSecret(rotating.webhook.id);
      const missed = await devOnly<{ deliveries: WebhookDeliveryObject[] }>(
        dev,
        apiKey,
        "POST",
        "/v1/dev/events",
        { type: "job.completed", webhook_id: rotating.webhook.id },
      );
      const refused = missed.deliveries[0]!;
      check(
        refused.response_status === 401,
        `secret rotated; ${rotating.label} still has the old one: ${refused.response_status} (${/invalid_signature/.test(refused.response_body ?? "") ? "invalid_signature" : "?"})`,
        `${rotating.label}: a delivery after the rotation was answered ${refused.response_status}`,
      );
      await stopChild(rotating.example!.child!);
      await startExample(rotating, [rotated.secret, rotating.webhook.secret]);
      rotating.webhook = rotated;
      const again = await kallima.webhooks.retryDelivery(refused.id);
      check(
        again.response_status === 200,
        `${rotating.label} restarted with the new secret beside the old one; the failed delivery retried: ${again.response_status}`,
        `${rotating.label}: the retried delivery was answered ${again.response_status}`,
      );
    }

    // 6. The delivery history (GET /v1/webhooks/{id}/deliveries), each with its attempts.
    out.write(`\n${paint.bold("delivery history")} (newest first)\n`);
    for (const endpoint of live) {
      const history = await kallima.webhooks.listDeliveries(endpoint.webhook.id, { limit: 20 });
      out.write(`  ${paint.bold(endpoint.label)} ${paint.dim(endpoint.webhook.url)}\n`);
      for (const delivery of history) {
        const attempts = await devOnly<DeliveryAttempt[]>(
          dev,
          apiKey,
          "GET",
          `/v1/dev/deliveries/${delivery.id}/attempts`,
        );
        const trail = attempts
          .map((a) => `${a.response_status ?? a.error} ${a.latency_ms}ms`)
          .join(" → ");
        const state = delivery.delivered_at ? paint.ok("delivered") : paint.bad("not delivered");
        out.write(
          `    ${delivery.event_type.padEnd(14)} ${state}, attempts: ${paint.dim(trail)}\n`,
        );
        if (!delivery.delivered_at) {
          problems.push(`${endpoint.label}: ${delivery.event_type} was not delivered`);
        }
      }
    }
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    out.write(`${paint.bad("✗")} ${problems.at(-1)}\n`);
  } finally {
    await dev.close();
    await flaky.close();
    await group.stopAll();
    process.off("exit", killOnExit);
  }
  out.write(
    problems.length === 0
      ? `${paint.ok("✓ the dev server delivered, retried and rotated as Kallima does.")}\n`
      : `${paint.bad(`✗ the dev server section found ${problems.length} problem(s).`)}\n`,
  );
  return { ok: problems.length === 0, problems };
}
