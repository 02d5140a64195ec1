// workerd: the vectors (and records + otel) check, the example and the Worker recipe of the core
// README, each bundled whole as a worker (workerd loads single modules and resolves nothing),
// served by one `workerd serve` with a generated config.
// No nodejs_compat flag: the core must run on plain workerd, with Web Crypto only.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RECIPE_SECRET } from "@kallima/example-recipes/check";
import type { VectorFile } from "@kallima/webhooks-conformance/vectors";
import { build, type Plugin } from "esbuild";
import { checkExample, SECRET } from "./example.js";
import { freePort, message, noise, start, stop, waitForHttp } from "./processes.js";
import { checkServedRecipe, RECIPES, type RecipeResult } from "./recipes.js";
import type { RuntimeResult } from "./report.js";
import type { Runtime } from "./runtimes.js";
import type { Stage } from "./stage.js";
import { asReport, type VectorsOutcome } from "./vectors.js";

/** Bundles `entry` of the staged app with the conditions wrangler uses; returns the core engine files it took in. */
async function bundleWorker(
  staged: Stage,
  entry: string,
  outfile: string,
  plugins: Plugin[] = [],
): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    absWorkingDir: staged.dir,
    metafile: true,
    logLevel: "error",
    plugins,
  });
  return Object.keys(result.metafile.inputs).filter((input) =>
    /crypto\/(web|node)\.js$/.test(input),
  );
}

/**
 * Resolves `kallima-test-vectors` to the vectors the shared loader read, and
 * `kallima-observed-deliveries` to the deliveries the host signed.
 */
const hostModules = (modules: Record<string, unknown>): Plugin => ({
  name: "kallima-host-modules",
  setup(plugin) {
    const names = Object.keys(modules).map((name) => name.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&"));
    plugin.onResolve({ filter: new RegExp(`^(${names.join("|")})$`) }, (args) => ({
      path: args.path,
      namespace: "kallima-host-modules",
    }));
    plugin.onLoad({ filter: /.*/, namespace: "kallima-host-modules" }, (args) => ({
      contents: `export default ${JSON.stringify(modules[args.path])};`,
      loader: "js",
    }));
  },
});

const config = (
  examplePort: number,
  vectorsPort: number,
  recipePort: number,
) => `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "example", worker = .exampleWorker),
    (name = "vectors", worker = .vectorsWorker),
    (name = "recipe", worker = .recipeWorker),
  ],
  sockets = [
    (name = "example", address = "127.0.0.1:${examplePort}", http = (), service = "example"),
    (name = "vectors", address = "127.0.0.1:${vectorsPort}", http = (), service = "vectors"),
    (name = "recipe", address = "127.0.0.1:${recipePort}", http = (), service = "recipe"),
  ],
);

const exampleWorker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-06-01",
  bindings = [(name = "KALLIMA_WEBHOOK_SECRET", text = "${SECRET}")],
);

const vectorsWorker :Workerd.Worker = (
  modules = [(name = "vectors-worker.js", esModule = embed "vectors-worker.js")],
  compatibilityDate = "2025-06-01",
);

const recipeWorker :Workerd.Worker = (
  modules = [(name = "recipe-worker.js", esModule = embed "recipe-worker.js")],
  compatibilityDate = "2025-06-01",
  bindings = [(name = "KALLIMA_WEBHOOK_SECRET", text = "${RECIPE_SECRET}")],
);
`;

/** Three ports nothing listens on. Each is free once closed, so the same one can come twice. */
async function threeFreePorts(): Promise<[number, number, number]> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [first = 0, second = 0, third = 0] = ports;
  return [first, second, third];
}

export async function runWorkerd(
  runtime: Runtime,
  staged: Stage,
  vectorFile: VectorFile,
): Promise<RuntimeResult> {
  const dir = await mkdtemp(join(tmpdir(), "kallima-workerd-"));
  try {
    const bundled = await bundleWorker(
      staged,
      "runtime/vectors-worker.js",
      join(dir, "vectors-worker.js"),
      [
        hostModules({
          "kallima-test-vectors": vectorFile,
          "kallima-observed-deliveries": staged.deliveries,
        }),
      ],
    );
    const exampleBundled = await bundleWorker(staged, "src/worker.ts", join(dir, "worker.js"));
    const recipeBundled = await bundleWorker(
      staged,
      join("recipes", RECIPES.worker.source),
      join(dir, "recipe-worker.js"),
    );
    const [examplePort, vectorsPort, recipePort] = await threeFreePorts();
    await writeFile(join(dir, "config.capnp"), config(examplePort, vectorsPort, recipePort));
    const server = start(runtime.binary, ["serve", join(dir, "config.capnp")], { cwd: dir });
    try {
      let vectors: VectorsOutcome;
      try {
        const response = await waitForHttp(`http://127.0.0.1:${vectorsPort}/`, server);
        vectors = {
          ...asReport(await response.json()),
          runtime: `workerd ${runtime.npm?.version ?? "?"}`,
          bundled: [...new Set([...bundled, ...exampleBundled, ...recipeBundled])],
        };
      } catch (error) {
        vectors = { error: message(error) };
      }
      let example: RuntimeResult["example"];
      try {
        example = await checkExample(`http://127.0.0.1:${examplePort}`, runtime.id);
      } catch (error) {
        example = { error: `${message(error)} ${noise(server.output.stderr).slice(-800)}` };
      }
      const recipes: RecipeResult[] = [];
      if (runtime.recipes.includes("worker")) {
        // workerd prints the Worker's console.log lines: its handler's, among them.
        recipes.push(
          await checkServedRecipe(
            "worker",
            `http://127.0.0.1:${recipePort}`,
            runtime.id,
            () => server.output.stdout + server.output.stderr,
          ),
        );
      }
      return { vectors, example, recipes };
    } finally {
      await stop(server);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
