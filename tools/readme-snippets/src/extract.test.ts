import { describe, expect, it } from "vitest";
import { extractBlocks } from "./extract.js";

describe("extractBlocks", () => {
  it("takes every TypeScript tag, with the lines of the fence and of the code", () => {
    const markdown = [
      "# title", //                     1
      "```ts", //                       2
      "const a = 1;", //                3
      "```", //                         4
      "```sh", //                       5
      "echo not typescript", //         6
      "```", //                         7
      "~~~TypeScript title=x", //       8
      "const b = 2;", //                9
      "~~~", //                         10
      "1. in a list", //                11
      "   ````tsx", //                  12
      "   const c = <div />;", //       13
      "   ```", //                      14
      "   ````", //                     15
      "```mts", //                      16
      "```", //                         17
      "```cts", //                      18
      "x", //                           19
    ].join("\n");
    const { blocks, problems } = extractBlocks(markdown);
    expect(problems).toEqual([]);
    expect(
      blocks.map(({ index, tag, fenceLine, firstLine, code }) => [
        index,
        tag,
        fenceLine,
        firstLine,
        code,
      ]),
    ).toEqual([
      [1, "ts", 2, 3, "const a = 1;"],
      [2, "typescript", 8, 9, "const b = 2;"],
      [3, "tsx", 12, 13, "const c = <div />;\n```"],
      [4, "mts", 16, 17, ""],
      [5, "cts", 18, 19, "x"],
    ]);
  });

  it("reads the skip marker only on the first line, and only with a reason", () => {
    const markdown = [
      "```ts",
      "// readme-snippets: skip — needs @nestjs/platform-fastify",
      "```",
      "```ts",
      "// readme-snippets: skip",
      "```",
      "```ts",
      "const a = 1;",
      "// readme-snippets: skip - too late",
      "```",
      "```ts",
      "// readme-snippets: ignore",
      "```",
    ].join("\n");
    const { blocks, problems } = extractBlocks(markdown);
    expect(blocks.map((block) => block.skip)).toEqual([
      { reason: "needs @nestjs/platform-fastify" },
      undefined,
      undefined,
      undefined,
    ]);
    expect(problems.map(({ block, line }) => [block, line])).toEqual([
      [2, 5],
      [3, 9],
      [4, 12],
    ]);
  });

  it("reads file=<path> from the info string", () => {
    const { blocks, problems } = extractBlocks(
      ["```ts file=examples/x/src/a.ts", "a", "```", "```ts title=b file=", "b", "```"].join("\n"),
    );
    expect(blocks.map((block) => block.file)).toEqual(["examples/x/src/a.ts", undefined]);
    expect(problems).toEqual([{ block: 2, line: 4, message: "file= needs a path" }]);
  });
});
