// The shared test vectors (../shared/test-vectors.json, both lists), through the one loader the
// repository's tests share: packages/conformance/src/vectors.ts. It fails loudly when the file or
// either list is missing.
export {
  allVectors,
  bodyOf,
  header,
  kallimaSignatureVectors,
  type TestVector,
  vectors,
} from "@kallima/webhooks-conformance/vectors";
