// Node, Bun and Deno: the vectors CLI, the example's dist/<entry>.js served on a free port, then
// the runtime's Fetch recipes (recipes.ts), each served on a free port of its own.
import { checkExample, SECRET } from "./example.js";
import { message, start, stop, waitForReadyLine } from "./processes.js";
import { type RecipeResult, runProcessRecipe } from "./recipes.js";
import type { RuntimeResult } from "./report.js";
import type { Runtime } from "./runtimes.js";
import type { Stage } from "./stage.js";
import { vectorsInProcess } from "./vectors.js";

export async function runProcessRuntime(
  runtime: Runtime,
  entry: "node" | "bun" | "deno",
  staged: Stage,
): Promise<RuntimeResult> {
  const vectors = await vectorsInProcess(runtime, staged);
  const example = await runExample(runtime, entry, staged);
  const recipes: RecipeResult[] = [];
  for (const id of runtime.recipes) recipes.push(await runProcessRecipe(runtime, id, staged));
  return { vectors, example, recipes };
}

async function runExample(
  runtime: Runtime,
  entry: "node" | "bun" | "deno",
  staged: Stage,
): Promise<RuntimeResult["example"]> {
  const server = start([...runtime.binary, ...runtime.scriptArgs], [`dist/${entry}.js`], {
    cwd: staged.dir,
    env: { PORT: "0", HOST: "127.0.0.1", KALLIMA_WEBHOOK_SECRET: SECRET },
  });
  try {
    const baseUrl = await waitForReadyLine(server);
    return await checkExample(baseUrl, runtime.id);
  } catch (error) {
    return { error: message(error) };
  } finally {
    await stop(server);
  }
}
