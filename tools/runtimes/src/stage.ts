// A temporary directory laid out like an app that installed the published packages: package.json
// and dist of @kallima/webhooks and @kallima/webhooks-hono copied into node_modules (hono and
// @hono/node-server linked from the example, and the core's optional peer @opentelemetry/api, as
// an app that uses @kallima/webhooks/otel installs it, linked from the core; elysia linked from
// examples/recipes), the example's src and the Bun and Deno recipes of examples/recipes built there, the deliveries of the observability check signed by the shared independent
// signer, and the scripts that run inside each runtime. Inside the workspace, Bun and esbuild would also apply
// packages/core/tsconfig.json "paths" to the core's dist files, which no user install has.
import { cp, mkdir, mkdtemp, realpath, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signDelivery } from "@kallima/webhooks-conformance/signer";
import type { VectorFile } from "@kallima/webhooks-conformance/vectors";
import { build } from "esbuild";
import {
  OBSERVED_OTHER_SECRET,
  OBSERVED_PAYLOAD,
  OBSERVED_SECRET,
  OBSERVED_TIMESTAMP,
  type ObservedDeliveries,
  type WireDelivery,
} from "./in-runtime/observed-deliveries.js";
import { exampleRoot, inRuntimeRoot, recipesRoot, repoRoot, toolRoot } from "./paths.js";
import { PROCESS_RECIPES, RECIPES } from "./recipes.js";

export interface Stage {
  dir: string;
  /** The vectors the shared loader read, as a file the process runtimes read. */
  vectorsFile: string;
  /** The observability check's signed deliveries, and the file the process runtimes read them from. */
  deliveries: ObservedDeliveries;
  deliveriesFile: string;
}

const PUBLISHED = [
  ["@kallima/webhooks", "packages/core"],
  ["@kallima/webhooks-hono", "packages/hono"],
] as const;

/** Linked into the staged node_modules: [name, the workspace package whose node_modules holds it]. */
const LINKED = [
  ["hono", "examples/hono"],
  ["@hono/node-server", "examples/hono"],
  // The Elysia recipe's framework (its own dependencies and peers resolve beside it).
  ["elysia", "examples/recipes"],
  // The core's optional peer, at the version the core is developed against.
  ["@opentelemetry/api", "packages/core"],
] as const;

/** The observability check's deliveries: signed on this side, never by the core under test. */
function observedDeliveries(): ObservedDeliveries {
  const sign = (secret: string): WireDelivery => {
    const { headers, body } = signDelivery(JSON.stringify(OBSERVED_PAYLOAD), {
      secret,
      timestamp: OBSERVED_TIMESTAMP,
    });
    return { headers, body_b64: Buffer.from(body).toString("base64") };
  };
  return { valid: sign(OBSERVED_SECRET), forged: sign(OBSERVED_OTHER_SECRET) };
}

export async function stage(vectors: VectorFile): Promise<Stage> {
  const dir = await mkdtemp(join(tmpdir(), "kallima-runtimes-"));
  const modules = join(dir, "node_modules");
  for (const [name, source] of PUBLISHED) {
    const from = join(repoRoot, source);
    try {
      await stat(join(from, "dist/index.js"));
    } catch {
      throw new Error(`${source}/dist is missing: build it first (pnpm build).`);
    }
    await mkdir(join(modules, name), { recursive: true });
    await cp(join(from, "package.json"), join(modules, name, "package.json"));
    await cp(join(from, "dist"), join(modules, name, "dist"), { recursive: true });
  }
  for (const [name, owner] of LINKED) {
    const from = join(repoRoot, owner, "node_modules", name);
    let target: string;
    try {
      target = await realpath(from);
    } catch {
      throw new Error(`${from} is missing: install the workspace first (pnpm install).`);
    }
    await mkdir(join(modules, name, ".."), { recursive: true });
    await symlink(target, join(modules, name));
  }
  await cp(join(exampleRoot, "src"), join(dir, "src"), { recursive: true });
  for (const recipe of Object.values(RECIPES)) {
    await cp(join(recipesRoot, "src", recipe.source), join(dir, "recipes", recipe.source));
  }
  await writeFile(
    join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: "kallima-runtime-matrix",
        private: true,
        type: "module",
        dependencies: Object.fromEntries(
          [...PUBLISHED, ...LINKED].map(([name]) => name).map((name) => [name, "*"]),
        ),
      },
      null,
      2,
    )}\n`,
  );
  const vectorsFile = join(dir, "vectors.json");
  await writeFile(vectorsFile, JSON.stringify(vectors));
  const deliveries = observedDeliveries();
  const deliveriesFile = join(dir, "deliveries.json");
  await writeFile(deliveriesFile, JSON.stringify(deliveries));

  // Packages stay external: each runtime resolves them, and the core's engine, by its own conditions.
  await build({
    entryPoints: { node: "src/node.ts", bun: "src/bun.ts", deno: "src/deno.ts" },
    outdir: join(dir, "dist"),
    absWorkingDir: dir,
    bundle: true,
    packages: "external",
    format: "esm",
    target: "es2022",
    platform: "neutral",
    logLevel: "error",
  });
  // The recipes for Bun and Deno, likewise; the Worker is bundled whole by workerd.ts.
  await build({
    entryPoints: Object.fromEntries(
      PROCESS_RECIPES.map((id) => [`recipes/${id}`, join("recipes", RECIPES[id].source)]),
    ),
    outdir: join(dir, "dist"),
    absWorkingDir: dir,
    bundle: true,
    packages: "external",
    format: "esm",
    target: "es2022",
    platform: "neutral",
    logLevel: "error",
  });
  // The in-runtime scripts, transpiled one by one (imports kept): runtime/*.js.
  await build({
    entryPoints: [
      "check-vectors.ts",
      "check-observability.ts",
      "observed-deliveries.ts",
      "observe.ts",
      "vectors-cli.ts",
      "vectors-worker.ts",
    ].map((file) => join(inRuntimeRoot, file)),
    outdir: join(dir, "runtime"),
    absWorkingDir: toolRoot,
    tsconfig: join(toolRoot, "tsconfig.json"),
    bundle: false,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    logLevel: "error",
  });
  return { dir, vectorsFile, deliveries, deliveriesFile };
}
