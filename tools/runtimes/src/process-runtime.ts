// Node, Bun and Deno: the vectors CLI, then the example's dist/<entry>.js served on a free port.
import { checkExample, SECRET } from "./example.js";
import { message, start, stop, waitForReadyLine } from "./processes.js";
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
  const server = start([...runtime.binary, ...runtime.scriptArgs], [`dist/${entry}.js`], {
    cwd: staged.dir,
    env: { PORT: "0", HOST: "127.0.0.1", KALLIMA_WEBHOOK_SECRET: SECRET },
  });
  try {
    const baseUrl = await waitForReadyLine(server);
    return { vectors, example: await checkExample(baseUrl, runtime.id) };
  } catch (error) {
    return { vectors, example: { error: message(error) } };
  } finally {
    await stop(server);
  }
}
