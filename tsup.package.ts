import { defineConfig, type Options } from "tsup";

/**
 * The build every published package shares: ESM + CJS + declarations for both, source maps, a
 * clean dist/. A package names its entries, its platform and anything it does differently.
 */
export function definePackageBuild(options: Options & Required<Pick<Options, "entry">>) {
  return defineConfig({
    format: ["esm", "cjs"],
    target: "es2022",
    sourcemap: true,
    clean: true,
    ...options,
    dts: {
      ...(typeof options.dts === "object" ? options.dts : {}),
      // tsup sets baseUrl for its declaration build, which TypeScript 6 deprecates.
      compilerOptions: { ignoreDeprecations: "6.0" },
    },
  });
}
