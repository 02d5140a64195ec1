// A temporary directory laid out like an app that installed the published packages: package.json
// and dist of @kallima/webhooks and @kallima/webhooks-hono copied into node_modules (hono and
// @hono/node-server linked from the example), the example's src built there, and the scripts
// that run inside each runtime. Inside the workspace, Bun and esbuild would also apply
// packages/core/tsconfig.json "paths" to the core's dist files, which no user install has.
import { cp, mkdir, mkdtemp, realpath, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VectorFile } from "@kallima/webhooks-conformance/vectors";
import { build } from "esbuild";
import { exampleRoot, inRuntimeRoot, repoRoot, toolRoot } from "./paths.js";

export interface Stage {
  dir: string;
  /** The vectors the shared loader read, as a file the process runtimes read. */
  vectorsFile: string;
}

const PUBLISHED = [
  ["@kallima/webhooks", "packages/core"],
  ["@kallima/webhooks-hono", "packages/hono"],
] as const;

const LINKED = ["hono", "@hono/node-server"] as const;

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
  for (const name of LINKED) {
    await mkdir(join(modules, name, ".."), { recursive: true });
    await symlink(await realpath(join(exampleRoot, "node_modules", name)), join(modules, name));
  }
  await cp(join(exampleRoot, "src"), join(dir, "src"), { recursive: true });
  await writeFile(
    join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: "kallima-runtime-matrix",
        private: true,
        type: "module",
        dependencies: Object.fromEntries(
          [...PUBLISHED.map(([name]) => name), ...LINKED].map((name) => [name, "*"]),
        ),
      },
      null,
      2,
    )}\n`,
  );
  const vectorsFile = join(dir, "vectors.json");
  await writeFile(vectorsFile, JSON.stringify(vectors));

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
  // The in-runtime scripts, transpiled one by one (imports kept): runtime/*.js.
  await build({
    entryPoints: ["check-vectors.ts", "vectors-cli.ts", "vectors-worker.ts"].map((file) =>
      join(inRuntimeRoot, file),
    ),
    outdir: join(dir, "runtime"),
    absWorkingDir: toolRoot,
    tsconfig: join(toolRoot, "tsconfig.json"),
    bundle: false,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    logLevel: "error",
  });
  return { dir, vectorsFile };
}
