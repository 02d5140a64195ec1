#!/usr/bin/env node
import { runCli } from "./cli.js";

// No top-level await: the same source is also bundled as CommonJS.
void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
