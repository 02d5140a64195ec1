/**
 * Part 7: the edge bundle. The same small Cloudflare Worker (verify a delivery, answer it) built
 * with esbuild as wrangler builds it (workerd conditions, minified, ESM), with the core's
 * complete handler (verify, dedupe, dispatch) or with a peer library's verification, and
 * measured minified and gzipped.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { PACKAGE_DIR } from "./http/load.js";

/**
 * The core's Worker is kept under this many gzipped bytes by `bundle.test.ts`: today's size
 * (about 9.7 kB, queue mode's enqueue path included) with a little room, so that growth is a
 * decision, not an accident.
 */
export const CORE_WORKER_BUDGET_BYTES = 10_000;

export const CORE_WORKER = "@kallima/webhooks createWebhookHandler (verify, dedupe, dispatch)";

/** Each Worker's source: what a user writes for that library, and what it does. */
export const WORKERS: readonly { name: string; does: string; source: string }[] = [
  {
    name: CORE_WORKER,
    does: "verify (both header formats, rotation), dedupe (memory store), dispatch by type, coded answers",
    source: `
import { createWebhookHandler } from "@kallima/webhooks";
let handler;
export default {
  fetch(request, env) {
    handler ??= createWebhookHandler({
      secret: env.KALLIMA_WEBHOOK_SECRET,
      on: { "job.completed": (event) => console.log(event.data.id) },
    });
    return handler.fetch(request, { env });
  },
};`,
  },
  {
    name: "svix",
    does: "verify only (then the app parses, dedupes and dispatches)",
    source: `
import { Webhook } from "svix";
export default {
  async fetch(request, env) {
    const payload = await request.text();
    try {
      const event = new Webhook(env.SECRET).verify(payload, Object.fromEntries(request.headers));
      console.log(event.id);
      return new Response("ok");
    } catch {
      return new Response("invalid", { status: 401 });
    }
  },
};`,
  },
  {
    name: "standardwebhooks",
    does: "verify only",
    source: `
import { Webhook } from "standardwebhooks";
export default {
  async fetch(request, env) {
    const payload = await request.text();
    try {
      const event = new Webhook(env.SECRET).verify(payload, Object.fromEntries(request.headers));
      console.log(event.id);
      return new Response("ok");
    } catch {
      return new Response("invalid", { status: 401 });
    }
  },
};`,
  },
  {
    name: "stripe",
    does: "verify only (constructEventAsync with the SubtleCrypto provider)",
    source: `
import Stripe from "stripe";
export default {
  async fetch(request, env) {
    const stripe = new Stripe(env.STRIPE_KEY);
    const payload = await request.text();
    try {
      const event = await stripe.webhooks.constructEventAsync(
        payload, request.headers.get("stripe-signature"), env.SECRET, undefined,
        Stripe.createSubtleCryptoProvider(),
      );
      console.log(event.id);
      return new Response("ok");
    } catch {
      return new Response("invalid", { status: 401 });
    }
  },
};`,
  },
  {
    name: "@octokit/webhooks-methods",
    does: "verify only, no timestamp (no replay protection)",
    source: `
import { verify } from "@octokit/webhooks-methods";
export default {
  async fetch(request, env) {
    const payload = await request.text();
    if (!(await verify(env.SECRET, payload, request.headers.get("x-hub-signature-256") ?? ""))) {
      return new Response("invalid", { status: 401 });
    }
    console.log(JSON.parse(payload).id);
    return new Response("ok");
  },
};`,
  },
];

export interface BundleRow {
  name: string;
  does: string;
  minifiedBytes: number;
  gzippedBytes: number;
}

export interface BundleResult {
  esbuild: string;
  rows: BundleRow[];
  budgetBytes: number;
}

/** Builds one Worker as wrangler would and measures it. */
export async function measureWorker(
  source: string,
  dir: string,
): Promise<Omit<BundleRow, "name" | "does">> {
  const entry = join(dir, `worker-${Math.random().toString(36).slice(2)}.js`);
  await writeFile(entry, source);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    // Resolve packages from this package, where every library measured is installed.
    nodePaths: [join(PACKAGE_DIR, "node_modules")],
    absWorkingDir: PACKAGE_DIR,
    // Built-ins a Worker gets from the runtime (nodejs_compat) are not part of its bundle.
    external: ["node:*", "crypto", "buffer", "events", "http", "https", "child_process"],
    logLevel: "error",
  });
  const code = result.outputFiles[0]!.contents;
  return { minifiedBytes: code.byteLength, gzippedBytes: gzipSync(code, { level: 9 }).byteLength };
}

/** Part 7: every Worker of {@link WORKERS}. */
export async function benchBundle(log: (line: string) => void): Promise<BundleResult> {
  // Written inside this package so that the Workers resolve its dependencies.
  const dir = await mkdtemp(join(PACKAGE_DIR, ".bundle-"));
  const { version } = await import("esbuild");
  try {
    const rows: BundleRow[] = [];
    for (const worker of WORKERS) {
      rows.push({
        name: worker.name,
        does: worker.does,
        ...(await measureWorker(worker.source, dir)),
      });
    }
    log(
      `bundle: ${rows.map((row) => `${row.name.split(" ")[0]} ${(row.gzippedBytes / 1000).toFixed(1)} kB`).join(", ")}`,
    );
    return { esbuild: version, rows, budgetBytes: CORE_WORKER_BUDGET_BYTES };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
