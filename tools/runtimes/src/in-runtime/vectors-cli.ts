// Node, Bun and Deno: `<runtime> runtime/vectors-cli.js <vectors.json>`; prints one JSON line.
import { readFileSync } from "node:fs";
import process from "node:process";
import type { VectorFile } from "@kallima/webhooks-conformance/vectors";
import { checkVectors } from "./check-vectors.js";

const path = process.argv[2];
if (!path) throw new Error("usage: vectors-cli.js <vectors.json>");
const file = JSON.parse(readFileSync(path, "utf8")) as Partial<VectorFile>;
console.log(JSON.stringify(await checkVectors(file)));
