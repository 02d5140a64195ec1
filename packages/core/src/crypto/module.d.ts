// Types of "#crypto", which package.json "imports" resolves per runtime to node.ts or web.ts.
// Declared here rather than through tsconfig "paths": Bun applies a package's tsconfig paths
// even to its built files, which would send it to the Node engine.
declare module "#crypto" {
  import type { CryptoModule } from "./types.js";
  export const engineName: CryptoModule["engineName"];
  export const createSignatureEngine: CryptoModule["createSignatureEngine"];
  export const decodeUtf8: CryptoModule["decodeUtf8"];
  export const utf8ByteLength: CryptoModule["utf8ByteLength"];
}
