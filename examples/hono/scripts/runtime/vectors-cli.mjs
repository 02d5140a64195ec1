// Node, Bun and Deno: `<runtime> vectors-cli.mjs <path to test-vectors.json>`; prints one JSON line.
import { readFileSync } from "node:fs";
import process from "node:process";
import { checkObservability } from "./check-observability.mjs";
import { checkVectors } from "./check-vectors.mjs";

const report = await checkVectors(JSON.parse(readFileSync(process.argv[2], "utf8")));
console.log(JSON.stringify({ ...report, observability: await checkObservability() }));
