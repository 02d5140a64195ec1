// The modules the workerd bundle resolves to what the host read or signed (see workerd.ts).
declare module "kallima-test-vectors" {
  const file: import("@kallima/webhooks-conformance/vectors").VectorFile;
  export default file;
}
declare module "kallima-observed-deliveries" {
  const deliveries: import("./observed-deliveries.js").ObservedDeliveries;
  export default deliveries;
}
