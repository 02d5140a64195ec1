import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSnippets, fileMismatches, GENERATED_DIR, type Readme } from "./check.js";
import { extractBlocks } from "./extract.js";

const readme = (path: string, markdown: string): Readme => ({
  path,
  ...extractBlocks(markdown),
});

// The checker on made-up READMEs: what it must refuse, and where it says the error is.
describe("checkSnippets", () => {
  it("maps tsc's errors to README lines, per format, with augmentations kept apart", async () => {
    const result = await checkSnippets(
      [
        readme(
          "packages/x/README.md",
          [
            "# x", //                                                     1
            "```ts", //                                                   2
            "declare const list: string[];", //                           3
            "const first: string = list[0];", //                          4 noUncheckedIndexedAccess
            "await Promise.resolve(first);", //                           5 top-level await: fine in ESM
            "```", //                                                     6
            "```ts", //                                                   7
            "// readme-snippets: skip — shows a deliberate mistake", //   8
            "const broken: number = 'text';", //                          9
            "```", //                                                     10
            "```ts", //                                                   11
            'import type { ProductEvents } from "@kallima/webhooks";', // 12
            'declare module "@kallima/webhooks" {', //                    13
            '  interface KallimaEventMap extends ProductEvents<"x", { n: number }> {}', // 14
            "}", //                                                       15
            "```", //                                                     16
            "```ts", //                                                   17
            'import { createWebhookHandler } from "@kallima/webhooks";', // 18
            'createWebhookHandler({ secret: "whsec_x", on: { "x.completed": () => {} } });', // 19
            "```", //                                                     20
          ].join("\n"),
        ),
        readme("packages/nest/README.md", ["```ts", "await Promise.resolve();", "```"].join("\n")),
      ],
      join(GENERATED_DIR, "self-test"),
    );
    expect(result.otherErrors).toEqual([]);
    expect(result.checked.map((entry) => [entry.file, entry.format])).toEqual([
      ["packages-x-readme.block-1.mts", "esm"],
      ["packages-x-readme.block-3.mts", "esm"],
      ["packages-x-readme.block-4.mts", "esm"],
      ["packages-nest-readme.block-1.cts", "cjs"],
    ]);
    expect(
      result.errors.map(({ readme, block, line, code }) => [readme, block, line, code]),
    ).toEqual([
      ["packages/nest/README.md", 1, 2, "TS1309"],
      ["packages/x/README.md", 1, 4, "TS2322"],
      // The augmentation of block 3 is not visible here: "x.completed" is unknown.
      ["packages/x/README.md", 4, 19, expect.stringMatching(/^TS\d+$/)],
    ]);
    expect(result.errors[1]?.source).toBe("const first: string = list[0];");
  }, 120_000);
});

describe("blocks that are files (file=)", () => {
  it("must equal their file, and are compared rather than compiled", async () => {
    const root = mkdtempSync(join(tmpdir(), "readme-snippets-files-"));
    try {
      mkdirSync(join(root, "examples/x"), { recursive: true });
      writeFileSync(join(root, "examples/x/a.ts"), "const a: number = 1;\nexport { a };\n");
      const markdown = [
        "```ts file=examples/x/a.ts", //   1
        "const a: number = 1;", //         2
        "export { a };", //                3
        "```", //                          4
        "```ts file=examples/x/a.ts", //   5
        "const a: number = 2;", //         6
        "export { a };", //                7
        "```", //                          8
        "```ts file=examples/x/a.ts", //   9
        "const a: number = 1;", //         10
        "```", //                          11
        "```ts file=examples/x/gone.ts", // 12
        "```", //                          13
        "```ts file=../outside.ts", //     14
        "```", //                          15
      ].join("\n");
      const { blocks } = extractBlocks(markdown);
      expect(fileMismatches(blocks, root).map(({ block, line }) => [block, line])).toEqual([
        [2, 6],
        [3, 11],
        [4, 12],
        [5, 14],
      ]);
      expect(fileMismatches(blocks, root)[0]?.message).toContain(
        'the README has "const a: number = 2;", the file "const a: number = 1;"',
      );
      // Not compiled: a block that is a file would otherwise need its package's types.
      const result = await checkSnippets(
        [readme("examples/x/README.md", markdown)],
        join(GENERATED_DIR, "self-test-files"),
      );
      expect(result.checked).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
