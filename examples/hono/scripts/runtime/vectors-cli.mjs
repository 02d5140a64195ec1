// Node, Bun and Deno: `<runtime> vectors-cli.mjs <path to test-vectors.json>`; prints one JSON line.
import { readFileSync } from "node:fs";
import process from "node:process";
import { checkVectors } from "./check-vectors.mjs";

console.log(JSON.stringify(await checkVectors(JSON.parse(readFileSync(process.argv[2], "utf8")))));
