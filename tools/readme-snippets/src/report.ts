import type { CheckResult, Readme, SnippetError } from "./check.js";
import type { BlockProblem } from "./extract.js";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export interface ReadmeCounts {
  readme: string;
  blocks: number;
  checked: number;
  skipped: number;
  /** Blocks that are a file of the repository (`file=`), compared with it instead of compiled. */
  files: number;
  errors: number;
}

export function countsOf(result: CheckResult): ReadmeCounts[] {
  return result.readmes.map((readme) => ({
    readme: readme.path,
    blocks: readme.blocks.length,
    checked: result.checked.filter((entry) => entry.readme === readme.path).length,
    skipped: readme.blocks.filter((block) => block.skip).length,
    files: readme.blocks.filter((block) => block.file && !block.skip).length,
    errors:
      result.errors.filter((error) => error.readme === readme.path).length + readme.problems.length,
  }));
}

/** Every failure of one README, grouped by block, each with its README line and tsc's message. */
export function formatReadmeFailures(
  readme: Readme,
  errors: SnippetError[],
  problems: BlockProblem[] = readme.problems,
): string {
  const out: string[] = [];
  for (const block of readme.blocks) {
    const own = errors.filter((error) => error.block === block.index);
    const marks = problems.filter((problem) => problem.block === block.index);
    if (own.length === 0 && marks.length === 0) continue;
    out.push(
      `${readme.path}, block ${block.index} (\`\`\`${block.tag} at line ${block.fenceLine}):`,
    );
    for (const problem of marks) out.push(`  line ${problem.line}: ${problem.message}`);
    for (const error of own) {
      const [first, ...more] = error.message.split("\n");
      out.push(`  line ${error.line}:${error.column} ${error.code}: ${first}`);
      for (const line of more) out.push(`      ${line}`);
      out.push(`      ${String(error.line).padStart(4)} | ${error.source}`);
    }
  }
  return out.join("\n");
}

/**
 * The whole run: a table per README, every skipped block with its reason, then every failure
 * (`details: false`, as the test prints it: only which READMEs fail, their tests say how).
 */
export function formatReport(result: CheckResult, { details = true } = {}): string {
  const counts = countsOf(result);
  const total = (key: keyof Omit<ReadmeCounts, "readme">) =>
    counts.reduce((sum, row) => sum + row[key], 0);
  const cjs = result.checked.filter((entry) => entry.format === "cjs").length;
  const failing = counts.filter((row) => row.errors > 0).length;
  const out = [
    `README snippets: ${plural(total("blocks"), "TypeScript block")} in ${plural(counts.length, "README")}; ` +
      `${total("checked")} checked (${total("checked") - cjs} as ESM, ${cjs} as CommonJS), ` +
      `${total("files")} compared with their files, ${total("skipped")} skipped, ${plural(total("errors"), "error")}` +
      (failing ? ` in ${plural(failing, "README")}` : "") +
      (result.otherErrors.length ? `, ${result.otherErrors.length} outside the blocks` : ""),
    "",
  ];
  const width = Math.max(...counts.map((row) => row.readme.length), "README".length);
  out.push(`  ${"README".padEnd(width)}  blocks  checked  files  skipped  errors`);
  for (const row of counts) {
    out.push(
      `  ${row.readme.padEnd(width)}  ${String(row.blocks).padStart(6)}  ${String(row.checked).padStart(7)}  ${String(row.files).padStart(5)}  ${String(row.skipped).padStart(7)}  ${String(row.errors).padStart(6)}`,
    );
  }
  const skipped = result.readmes.flatMap((readme) =>
    readme.blocks.flatMap((block) =>
      block.skip
        ? [`  ${readme.path}, block ${block.index} (line ${block.fenceLine}): ${block.skip.reason}`]
        : [],
    ),
  );
  if (skipped.length) out.push("", `Skipped, by the marker on their first line:`, ...skipped);
  const failures = result.readmes
    .map((readme) =>
      formatReadmeFailures(
        readme,
        result.errors.filter((error) => error.readme === readme.path),
      ),
    )
    .filter(Boolean);
  if (failures.length && details) out.push("", "Failures:", ...failures);
  else if (failing) {
    const names = counts
      .filter((row) => row.errors > 0)
      .map((row) => `${row.readme} (${row.errors})`);
    out.push("", `Failing: ${names.join(", ")}; each README's test below says where and why.`);
  }
  if (result.otherErrors.length) {
    out.push("", "tsc errors outside the blocks:", ...result.otherErrors.map((e) => `  ${e}`));
  }
  return out.join("\n");
}
