// The module the workerd bundle resolves to the vectors the shared loader read (see workerd.ts).
declare module "kallima-test-vectors" {
  const file: import("@kallima/webhooks-conformance/vectors").VectorFile;
  export default file;
}
