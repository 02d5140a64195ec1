// The two builds of the core that `bundleHarness` makes (one per engine), as harness.ts imports them.
declare module "kallima-core-node" {
  export * from "@kallima/webhooks";
}
declare module "kallima-core-web" {
  export * from "@kallima/webhooks";
}
