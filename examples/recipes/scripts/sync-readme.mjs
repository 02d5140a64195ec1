// Copies each recipe file into its block of packages/core/README.md (the blocks fenced as
// ```ts file=examples/recipes/src/…), so that the README shows the code that is typechecked and
// tested here. tools/readme-snippets fails when a block and its file differ; this fixes that.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const readmePath = `${root}packages/core/README.md`;
const readme = readFileSync(readmePath, "utf8");
const block = /^```ts file=(examples\/recipes\/\S+)\n[\s\S]*?^```$/gm;
let count = 0;
const synced = readme.replace(block, (_, file) => {
  count++;
  return `\`\`\`ts file=${file}\n${readFileSync(`${root}${file}`, "utf8").replace(/\n$/, "")}\n\`\`\``;
});
if (synced !== readme) writeFileSync(readmePath, synced);
console.log(
  `${count} recipe blocks in packages/core/README.md: ${synced === readme ? "already the files" : "copied from the files"}`,
);
