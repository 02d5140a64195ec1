// The core README's Fetch recipes (examples/recipes) served by the runtime they are written for:
// Bun.serve and Elysia on Bun, Deno.serve on Deno (processes started here), the Worker on workerd
// (a service of workerd.ts's config). Each gets the deliveries of examples/recipes/src/check.ts
// over HTTP; its handler's console.log lines, read from the runtime's output, must show each
// handled job exactly once.
import {
  checkRecipe,
  RECIPE_PATH,
  RECIPE_SECRET,
  type RecipeOutcome,
} from "@kallima/example-recipes/check";
import { freePort, message, start, stop, tail, waitForHttp } from "./processes.js";
import type { Runtime } from "./runtimes.js";
import type { Stage } from "./stage.js";

export type RecipeId = "bun-serve" | "elysia" | "deno-serve" | "worker";

export interface Recipe {
  /** As the table names it. */
  name: string;
  /** The recipe's file under examples/recipes/src, copied to recipes/ of the staged app. */
  source: string;
}

export const RECIPES: Record<RecipeId, Recipe> = {
  "bun-serve": { name: "Bun.serve", source: "bun/server.ts" },
  elysia: { name: "Elysia", source: "elysia/server.ts" },
  "deno-serve": { name: "Deno.serve", source: "deno/server.ts" },
  worker: { name: "Worker", source: "worker/worker.ts" },
};

/** The recipes a process runs, built into the staged app by stage.ts. */
export const PROCESS_RECIPES = ["bun-serve", "elysia", "deno-serve"] as const;

/** Where stage.ts builds a process recipe, relative to the staged app. */
export const recipeScript = (id: RecipeId) => `dist/recipes/${id}.js`;

/** One recipe's run: its check's outcome, or why it could not run. */
export interface RecipeResult {
  id: RecipeId;
  outcome: RecipeOutcome | { error: string };
}

/** Checks a recipe served at `baseUrl`; `logged` reads what its runtime printed so far. */
export async function checkServedRecipe(
  id: RecipeId,
  baseUrl: string,
  tag: string,
  logged: () => string,
): Promise<RecipeResult> {
  try {
    const outcome = await checkRecipe((request) => fetch(request), { tag, baseUrl, logged });
    return { id, outcome };
  } catch (error) {
    return { id, outcome: { error: message(error) } };
  }
}

/** Starts a process recipe on a free port, waits until it answers, checks it, stops it. */
export async function runProcessRecipe(
  runtime: Runtime,
  id: RecipeId,
  staged: Stage,
): Promise<RecipeResult> {
  const port = await freePort();
  const server = start([...runtime.binary, ...runtime.scriptArgs], [recipeScript(id)], {
    cwd: staged.dir,
    env: { PORT: String(port), KALLIMA_WEBHOOK_SECRET: RECIPE_SECRET },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${baseUrl}${RECIPE_PATH}`, server);
    const result = await checkServedRecipe(
      id,
      baseUrl,
      `${runtime.id}_${id}`,
      () => server.output.stdout,
    );
    if ("error" in result.outcome || result.outcome.failures.length === 0) return result;
    // A failure's reason may be in what the runtime printed: after the last one, not counted.
    const failures = [...result.outcome.failures];
    failures[failures.length - 1] += `\n  output: ${tail(server)}`;
    return { id, outcome: { ...result.outcome, failures } };
  } catch (error) {
    return { id, outcome: { error: message(error) } };
  } finally {
    await stop(server);
  }
}
