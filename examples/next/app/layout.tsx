import type { ReactNode } from "react";

export const metadata = {
  title: "Kallima webhooks on Next.js",
  description: "The last Kallima events this Next.js app received.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", margin: "2rem", lineHeight: 1.5 }}>
        {children}
      </body>
    </html>
  );
}
