import { beforeAll, describe, expect, it } from "vitest";
import { type CheckResult, checkSnippets, missingBuilds, readReadmes } from "./check.js";
import { formatReadmeFailures, formatReport } from "./report.js";

// Every TypeScript block of every README, typechecked against the built workspace packages and the
// frameworks' real types. A block opts out only with "// readme-snippets: skip — <reason>" on its
// first line; the report counts and lists those.
const readmes = readReadmes();
let result: CheckResult;

beforeAll(async () => {
  const missing = missingBuilds();
  if (missing.length) {
    throw new Error(
      `not built: ${missing.join(", ")}. The blocks import their dist: run \`pnpm turbo run build --filter=@kallima/readme-snippets^...\` (turbo's test task does it).`,
    );
  }
  result = await checkSnippets(readmes);
  console.log(formatReport(result, { details: false }));
}, 300_000);

describe("README TypeScript blocks compile as written", () => {
  it("finds the READMEs users read", () => {
    const paths = readmes.map((readme) => readme.path);
    expect(paths).toContain("README.md");
    expect(paths).toContain("packages/core/README.md");
    expect(paths.some((path) => /node_modules|\/dist\/|\.next/.test(path))).toBe(false);
  });

  for (const readme of readmes) {
    const skipped = readme.blocks.filter((block) => block.skip).length;
    const files = readme.blocks.filter((block) => block.file && !block.skip).length;
    const title = `${readme.path} (${readme.blocks.length - skipped - files} checked${files ? `, ${files} compared with their files` : ""}${skipped ? `, ${skipped} skipped` : ""})`;
    it(title, () => {
      const errors = result.errors.filter((error) => error.readme === readme.path);
      if (errors.length || readme.problems.length) {
        throw new Error(`\n${formatReadmeFailures(readme, errors)}\n`);
      }
    });
  }

  it("tsc reports nothing outside the blocks", () => {
    if (result.otherErrors.length) throw new Error(`\n${result.otherErrors.join("\n")}\n`);
  });
});
