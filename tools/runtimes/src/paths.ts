import { fileURLToPath } from "node:url";

/** The repository's root. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** The Hono example, whose app every runtime serves. */
export const exampleRoot = fileURLToPath(new URL("../../../examples/hono/", import.meta.url));

/** The core README's Fetch recipes, of which the Bun, Deno and Workers ones are served here. */
export const recipesRoot = fileURLToPath(new URL("../../../examples/recipes/", import.meta.url));

/** The TypeScript of the scripts that run inside each runtime. */
export const inRuntimeRoot = fileURLToPath(new URL("./in-runtime/", import.meta.url));

/** This tool's folder (esbuild resolves its own tsconfig.json from here). */
export const toolRoot = fileURLToPath(new URL("../", import.meta.url));
