// The benchmark's Next.js app: route handlers only, JavaScript so that `next build` has no
// tsconfig to rewrite. Built and started by packages/bench (src/http/next.ts).
/** @type {import("next").NextConfig} */
const config = {
  poweredByHeader: false,
};

export default config;
