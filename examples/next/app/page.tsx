"use client";

import { useEffect, useState } from "react";

const ROUTES = [
  { path: "/kallima-events", label: "App Router, Node.js runtime" },
  { path: "/kallima-events/edge", label: "App Router, Edge runtime" },
  { path: "/kallima-events/verify-only", label: "App Router, verify-only route" },
  { path: "/api/kallima-events", label: "Pages Router" },
] as const;

type Listing = Record<string, { id: string; type: string }[] | string>;

// Each route keeps its own list (they are separate bundles), so the page asks every one.
async function load(): Promise<Listing> {
  const entries = await Promise.all(
    ROUTES.map(async ({ path }) => {
      try {
        const response = await fetch(path, { cache: "no-store" });
        if (!response.ok) return [path, `GET ${path} answered ${response.status}`] as const;
        const { events } = (await response.json()) as { events: { id: string; type: string }[] };
        return [path, events] as const;
      } catch (error) {
        return [path, `GET ${path} failed: ${String(error)}`] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}

export default function Home() {
  const [listing, setListing] = useState<Listing | undefined>();

  useEffect(() => {
    let active = true;
    const refresh = () => {
      load().then(
        (next) => {
          if (active) setListing(next);
        },
        // load() turns every failed request into a message; this is for a bug in it.
        (error: unknown) => console.error(error),
      );
    };
    refresh();
    const timer = setInterval(refresh, 2000);
    return () => {
      active = false;
      clearInterval(timer);
    };
  }, []);

  return (
    <main>
      <h1>Kallima webhooks on Next.js</h1>
      <p>
        The last events each route handled, newest first (refreshed every 2 seconds). Send one with
        the <code>kallima-webhooks send</code> command of <code>@kallima/webhooks-cli</code>, or any
        request signed with this app&apos;s secret.
      </p>
      {ROUTES.map(({ path, label }) => {
        const events = listing?.[path];
        return (
          <section key={path}>
            <h2>
              {label}: <code>POST {path}</code>
            </h2>
            {events === undefined ? (
              <p>Loading…</p>
            ) : typeof events === "string" ? (
              <p role="alert">{events}</p>
            ) : events.length === 0 ? (
              <p>No events yet.</p>
            ) : (
              <ol>
                {events
                  .slice(-20)
                  .reverse()
                  .map((event) => (
                    <li key={event.id}>
                      <code>{event.type}</code> {event.id}
                    </li>
                  ))}
              </ol>
            )}
          </section>
        );
      })}
    </main>
  );
}
