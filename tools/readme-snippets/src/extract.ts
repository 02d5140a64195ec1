/** The fence tags whose blocks are typechecked. */
export const TYPESCRIPT_TAGS = ["ts", "typescript", "tsx", "mts", "cts"] as const;
export type TypeScriptTag = (typeof TYPESCRIPT_TAGS)[number];

/** The one way to opt a block out: this comment on its first line, with a reason after it. */
export const SKIP_MARKER = "// readme-snippets: skip";

export interface Block {
  /** 1-based position among the README's TypeScript blocks. */
  index: number;
  tag: TypeScriptTag;
  /** README line of the opening fence (1-based). */
  fenceLine: number;
  /** README line of the block's first code line (1-based). */
  firstLine: number;
  /** The code, with the fence's indentation removed. */
  code: string;
  /** Set when the block opts out with the skip marker. */
  skip?: { reason: string };
  /**
   * `file=<path>` in the info string (```ts file=examples/recipes/src/bun/server.ts): the block is
   * that file, repository-relative, which its own package typechecks with the types it needs (a
   * runtime's globals, say); the block must equal it and is not compiled here.
   */
  file?: string;
}

/** A block the checker refuses to read as written (a misplaced or incomplete marker). */
export interface BlockProblem {
  block: number;
  line: number;
  message: string;
}

export interface Extraction {
  blocks: Block[];
  problems: BlockProblem[];
}

const OPENING = /^(\s*)(`{3,}|~{3,})(.*)$/;
const MARKER_ANYWHERE = /readme-snippets\s*:/;
const SKIP = /^\/\/\s*readme-snippets\s*:\s*skip\b(.*)$/;
const FILE_ATTRIBUTE = /(?:^|\s)file=(\S*)/;

function isTypeScriptTag(tag: string): tag is TypeScriptTag {
  return (TYPESCRIPT_TAGS as readonly string[]).includes(tag);
}

/**
 * The TypeScript blocks of a Markdown document: fenced with ``` or ~~~ (any length, closed by a
 * fence of the same character at least as long), tagged ts, typescript, tsx, mts or cts (the first
 * word of the info string, any case).
 */
export function extractBlocks(markdown: string): Extraction {
  const lines = markdown.split(/\r?\n/);
  const blocks: Block[] = [];
  const problems: BlockProblem[] = [];

  for (let i = 0; i < lines.length; i++) {
    const opening = OPENING.exec(lines[i] ?? "");
    if (!opening) continue;
    const indent = opening[1]?.length ?? 0;
    const fence = opening[2] ?? "";
    const info = (opening[3] ?? "").trim();
    if (fence.startsWith("`") && info.includes("`")) continue; // inline code, not a fence

    const fenceChar = fence.charAt(0);
    const closing = new RegExp(`^\\s*${fenceChar === "`" ? "`" : "~"}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !closing.test(lines[end] ?? "")) end++;
    const body = lines.slice(i + 1, end).map((line) => stripIndent(line, indent));
    const tag = (info.split(/[\s{]/, 1)[0] ?? "").toLowerCase();

    if (isTypeScriptTag(tag)) {
      const index = blocks.length + 1;
      const firstLine = i + 2;
      const block: Block = { index, tag, fenceLine: i + 1, firstLine, code: body.join("\n") };
      const file = FILE_ATTRIBUTE.exec(info)?.[1];
      if (file) block.file = file;
      else if (file === "") {
        problems.push({ block: index, line: i + 1, message: "file= needs a path" });
      }
      const first = (body[0] ?? "").trim();
      const skip = SKIP.exec(first);
      if (skip) {
        const reason = (skip[1] ?? "").replace(/^\s*[—–:-]*\s*/, "").trim();
        if (reason) block.skip = { reason };
        else {
          problems.push({
            block: index,
            line: firstLine,
            message: `a skip marker needs a reason: "${SKIP_MARKER} — <why this block cannot compile>"`,
          });
        }
      } else if (MARKER_ANYWHERE.test(first)) {
        problems.push({
          block: index,
          line: firstLine,
          message: `unknown marker "${first}": the only one is "${SKIP_MARKER} — <reason>"`,
        });
      }
      body.forEach((line, offset) => {
        if (offset > 0 && MARKER_ANYWHERE.test(line)) {
          problems.push({
            block: index,
            line: firstLine + offset,
            message: `a readme-snippets marker counts only on the block's first line`,
          });
        }
      });
      blocks.push(block);
    }
    i = end; // the closing fence (or the end of the document, for an unclosed one)
  }
  return { blocks, problems };
}

function stripIndent(line: string, indent: number): string {
  let cut = 0;
  while (cut < indent && (line[cut] === " " || line[cut] === "\t")) cut++;
  return line.slice(cut);
}
