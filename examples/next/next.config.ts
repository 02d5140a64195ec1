import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

// The workspace root: @kallima/* packages are symlinked from there, outside this app's directory.
const workspaceRoot = fileURLToPath(new URL("../..", import.meta.url));

const nextConfig: NextConfig = {
  turbopack: { root: workspaceRoot },
  outputFileTracingRoot: workspaceRoot,
  poweredByHeader: false,
  experimental: {
    // A CI machine builds once from scratch: writing Turbopack's cache there only costs time.
    turbopackFileSystemCacheForBuild: !process.env.CI,
  },
};

export default nextConfig;
