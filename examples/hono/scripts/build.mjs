// Builds one JavaScript file per runtime into dist/. Node, Bun and Deno entries keep their
// packages external, so that each runtime resolves them (and the core picks its HMAC engine)
// through its own package conditions. The Workers entry is bundled whole, with the conditions
// wrangler uses, because workerd loads a single module and resolves nothing.
import { build } from "esbuild";

const common = {
  bundle: true,
  format: "esm",
  target: "es2022",
  logLevel: "warning",
  absWorkingDir: new URL("..", import.meta.url).pathname,
  // Only this tsconfig: esbuild would otherwise apply packages/core/tsconfig.json "paths" (which
  // map #crypto to the Node engine for type checking) to the core's dist files in this checkout.
  tsconfig: "tsconfig.json",
};

const [, worker] = await Promise.all([
  build({
    ...common,
    entryPoints: { node: "src/node.ts", bun: "src/bun.ts", deno: "src/deno.ts" },
    outdir: "dist",
    platform: "neutral",
    packages: "external",
  }),
  build({
    ...common,
    entryPoints: { worker: "src/worker.ts" },
    outdir: "dist",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    metafile: true,
  }),
]);

const engines = Object.keys(worker.metafile.inputs).filter((input) =>
  /\/crypto\/(web|node)\.js$/.test(input),
);
// workerd has no node:crypto (without nodejs_compat): a bundle with the Node engine cannot run there.
if (engines.some((input) => input.endsWith("/node.js"))) {
  throw new Error(`the worker bundle resolved the core's Node engine: ${engines.join(", ")}`);
}
// On stderr: stdout is kept for the example's ready line.
console.error(`built dist/{node,bun,deno,worker}.js; the worker bundles ${engines.join(", ")}`);
