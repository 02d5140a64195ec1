import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { type Block, type BlockProblem, extractBlocks } from "./extract.js";

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = resolve(PACKAGE_DIR, "../..");
/** Where the blocks are written as modules; gitignored, rewritten on every run. */
export const GENERATED_DIR = join(PACKAGE_DIR, "generated");

/** The folders whose READMEs users read, besides the root's: each one's own and its children's. */
const README_FOLDERS = ["packages", "examples", "tools"];
const SKIPPED_FOLDERS = new Set(["node_modules", "dist", ".next"]);

/**
 * READMEs whose blocks are CommonJS (`.cts`, legacy decorators with metadata): Nest's standard
 * setup compiles to CommonJS, where top-level await does not exist (TS1309). A block tagged `mts`
 * or `cts` is that format wherever it is.
 */
export const COMMONJS_READMES = new Set(["packages/nest/README.md", "examples/nest/README.md"]);

export type ModuleFormat = "esm" | "cjs";

export interface Readme {
  /** Repository-relative, with forward slashes. */
  path: string;
  blocks: Block[];
  problems: BlockProblem[];
}

export interface SnippetError {
  readme: string;
  block: number;
  /** README line and column of the error. */
  line: number;
  column: number;
  code: string;
  message: string;
  /** The README line the error points at. */
  source: string;
}

export interface CheckedBlock {
  readme: string;
  block: Block;
  format: ModuleFormat;
  /** The generated module, relative to the package. */
  file: string;
}

export interface CheckResult {
  readmes: Readme[];
  checked: CheckedBlock[];
  errors: SnippetError[];
  /** tsc errors that point at no block (configuration, or a workspace package's own sources). */
  otherErrors: string[];
}

const toPosix = (path: string) => path.split(sep).join("/");

/** The root README and README.md of packages/, examples/, tools/ and of their direct children. */
export function findReadmes(root = REPO_ROOT): string[] {
  const found: string[] = [];
  const add = (dir: string) => {
    const file = join(dir, "README.md");
    if (existsSync(file)) found.push(toPosix(relative(root, file)));
  };
  add(root);
  for (const folder of README_FOLDERS) {
    const dir = join(root, folder);
    if (!existsSync(dir)) continue;
    add(dir);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) add(join(dir, entry.name));
    }
  }
  // A folder's README before its children's: README.md, examples/README.md, examples/express/…
  const folder = (path: string) => path.replace(/\/?README\.md$/, "");
  return found.sort((a, b) => folder(a).localeCompare(folder(b)));
}

export function readReadmes(root = REPO_ROOT): Readme[] {
  return findReadmes(root).map((path) => {
    const { blocks, problems } = extractBlocks(readFileSync(join(root, path), "utf8"));
    return { path, blocks, problems: [...problems, ...fileMismatches(blocks, root)] };
  });
}

/**
 * Blocks with `file=<path>` that are not that file, as problems: the file is missing, or the
 * first line where they differ. The file's own package typechecks and tests it, so the README
 * shows code that is checked, and cannot drift from it.
 */
export function fileMismatches(blocks: readonly Block[], root = REPO_ROOT): BlockProblem[] {
  const problems: BlockProblem[] = [];
  for (const block of blocks) {
    if (!block.file) continue;
    const path = resolve(root, block.file);
    if (!path.startsWith(`${resolve(root)}${sep}`) || !existsSync(path)) {
      problems.push({
        block: block.index,
        line: block.fenceLine,
        message: `file=${block.file}: no such file in the repository`,
      });
      continue;
    }
    const fileLines = readFileSync(path, "utf8")
      .replace(/\r?\n$/, "")
      .split(/\r?\n/);
    const blockLines = block.code.split("\n");
    const at = Array.from(
      { length: Math.max(fileLines.length, blockLines.length) },
      (_, i) => i,
    ).find((i) => fileLines[i] !== blockLines[i]);
    if (at !== undefined) {
      const show = (line: string | undefined) =>
        line === undefined ? "(end)" : JSON.stringify(line);
      problems.push({
        block: block.index,
        line: block.firstLine + at,
        message: `differs from ${block.file} at its line ${at + 1}: the README has ${show(blockLines[at])}, the file ${show(fileLines[at])}; copy the file into the block`,
      });
    }
  }
  return problems;
}

export function formatOf(readme: string, block: Block): ModuleFormat {
  // A .tsx module takes its format from the nearest package.json, this package's: "module".
  if (block.tag === "tsx") return "esm";
  if (block.tag === "cts") return "cjs";
  if (block.tag === "mts") return "esm";
  return COMMONJS_READMES.has(readme) ? "cjs" : "esm";
}

/** `packages/core/README.md`, block 2 → `packages-core-readme.block-2.mts` (`.tsx` for tsx). */
export function moduleName(readme: string, block: Block, format: ModuleFormat): string {
  const slug = readme
    .replace(/\.md$/i, "")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .toLowerCase();
  const ext = block.tag === "tsx" ? "tsx" : format === "cjs" ? "cts" : "mts";
  return `${slug}.block-${block.index}.${ext}`;
}

/** A block that changes the types of a module it does not own, or the globals, gets its own program. */
const AUGMENTS = /^\s*declare\s+(?:module\s+["']|global\b)/m;

/** Lines written above the block's code in its module (the provenance comment). */
const HEADER_LINES = 1;

/** The workspace packages built to dist that the blocks import: a missing dist is a clear error. */
export function missingBuilds(): string[] {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  };
  const missing: string[] = [];
  for (const [name, range] of Object.entries(manifest.devDependencies)) {
    if (!range.startsWith("workspace:")) continue;
    const dir = join(PACKAGE_DIR, "node_modules", name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      scripts?: Record<string, string>;
    };
    if (pkg.scripts?.build && !existsSync(join(dir, "dist"))) missing.push(name);
  }
  return missing;
}

function compilerOptions(format: ModuleFormat): Record<string, unknown> {
  return {
    // On top of the repository's own strictness (tsconfig.base.json: strict,
    // noUncheckedIndexedAccess, …): what a user's Node project compiles with.
    strict: true,
    module: "nodenext",
    moduleResolution: "nodenext",
    skipLibCheck: true,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    lib: ["ES2022"],
    types: ["node"],
    jsx: "react-jsx",
    ...(format === "cjs"
      ? {
          // Nest's standard tsconfig: CommonJS, legacy decorators with design-type metadata.
          verbatimModuleSyntax: false,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
        }
      : { verbatimModuleSyntax: true }),
  };
}

interface Program {
  name: string;
  format: ModuleFormat;
  files: string[];
}

function writeProgram(outDir: string, program: Program): string {
  const config = `tsconfig.${program.name}.json`;
  const base = toPosix(relative(outDir, join(REPO_ROOT, "tsconfig.base.json")));
  const json = {
    extends: base,
    compilerOptions: compilerOptions(program.format),
    files: program.files.map((file) => `./${file}`),
  };
  writeFileSync(join(outDir, config), `${JSON.stringify(json, null, 2)}\n`);
  return config;
}

function runTsc(outDir: string, config: string): Promise<string> {
  const tsc = createRequire(join(PACKAGE_DIR, "package.json")).resolve("typescript/bin/tsc");
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      [tsc, "-p", config, "--noEmit", "--pretty", "false"],
      { cwd: outDir, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // tsc exits 1 or 2 when it reports errors; anything else (or no output) is a crash.
        const code = error && typeof error.code === "number" ? error.code : error ? -1 : 0;
        if (code !== 0 && code !== 1 && code !== 2) {
          fail(new Error(`tsc -p ${config} failed (${String(error?.code)}): ${stderr || stdout}`));
        } else if (code !== 0 && !stdout.trim()) {
          fail(new Error(`tsc -p ${config} exited ${code} without diagnostics: ${stderr}`));
        } else done(stdout);
      },
    );
  });
}

async function inParallel<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const DIAGNOSTIC = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/;

/** Groups tsc's `--pretty false` output into diagnostics (continuation lines are indented). */
export function parseDiagnostics(output: string): string[] {
  const diagnostics: string[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (!line.trim()) continue;
    if (/^\s/.test(line) && diagnostics.length > 0) {
      diagnostics[diagnostics.length - 1] += `\n${line}`;
    } else diagnostics.push(line);
  }
  return diagnostics;
}

/**
 * Writes every block as a module of its own into `outDir` (emptied first; it must be inside this
 * package, whose node_modules resolve the imports) and typechecks them all with tsc.
 */
export async function checkSnippets(
  readmes: Readme[] = readReadmes(),
  outDir = join(GENERATED_DIR, "readmes"),
): Promise<CheckResult> {
  if (!resolve(outDir).startsWith(`${GENERATED_DIR}${sep}`)) {
    throw new Error(`${outDir}: not under ${GENERATED_DIR}`);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const checked: CheckedBlock[] = [];
  const byFile = new Map<string, CheckedBlock>();
  const programs: Program[] = [];
  const shared: Record<ModuleFormat, Program> = {
    esm: { name: "esm", format: "esm", files: [] },
    cjs: { name: "cjs", format: "cjs", files: [] },
  };

  for (const readme of readmes) {
    for (const block of readme.blocks) {
      // A file's block is compared with its file (readReadmes), which its own package compiles.
      if (block.skip || block.file) continue;
      const format = formatOf(readme.path, block);
      const file = moduleName(readme.path, block, format);
      const header = `// ${readme.path}, block ${block.index} (line ${block.fenceLine}); generated by @kallima/readme-snippets, do not edit`;
      writeFileSync(join(outDir, file), `${header}\n${block.code}\n`);
      const entry: CheckedBlock = { readme: readme.path, block, format, file };
      checked.push(entry);
      byFile.set(file, entry);
      if (AUGMENTS.test(block.code)) {
        programs.push({ name: file.replace(/\.[^.]+$/, ""), format, files: [file] });
      } else shared[format].files.push(file);
    }
  }
  for (const program of [shared.esm, shared.cjs])
    if (program.files.length) programs.unshift(program);

  const configs = programs.map((program) => writeProgram(outDir, program));
  const limit = Math.max(1, Math.min(2, availableParallelism()));
  const outputs = await inParallel(configs, limit, (config) => runTsc(outDir, config));

  const errors: SnippetError[] = [];
  const otherErrors = new Set<string>();
  for (const diagnostic of outputs.flatMap(parseDiagnostics)) {
    const [first = "", ...rest] = diagnostic.split("\n");
    const match = DIAGNOSTIC.exec(first);
    const entry = match ? byFile.get(toPosix(match[1] ?? "")) : undefined;
    if (!match || !entry) {
      otherErrors.add(diagnostic);
      continue;
    }
    const generatedLine = Number(match[2]);
    const offset = Math.max(0, generatedLine - 1 - HEADER_LINES);
    const codeLines = entry.block.code.split("\n");
    errors.push({
      readme: entry.readme,
      block: entry.block.index,
      line: entry.block.firstLine + offset,
      column: Number(match[3]),
      code: match[4] ?? "",
      message: [match[5] ?? "", ...rest.map((line) => line.trim())].join("\n"),
      source: codeLines[offset] ?? "",
    });
  }
  errors.sort((a, b) => a.readme.localeCompare(b.readme) || a.line - b.line || a.column - b.column);
  return { readmes, checked, errors, otherErrors: [...otherErrors] };
}
