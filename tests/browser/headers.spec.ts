// Browser headers: the dashboard under a strict Content-Security-Policy (no
// inline script, no eval, no framing, connections to its own origin only),
// the widget script still loadable from any site, and API answers that are
// never sniffed or cached. The page must render with no CSP violation.
import { test, expect } from "./fixtures";

const csp = (header: string | undefined) =>
  new Map(
    (header ?? "")
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values] as const),
  );

test("the dashboard is served with a strict CSP, nosniff, a referrer policy and HSTS", async ({ server, page }) => {
  for (const path of ["/", "/login", "/conversations/cv_any"]) {
    const r = await page.request.get(server.base + path);
    expect(r.status(), path).toBe(200);
    const h = r.headers();
    const policy = csp(h["content-security-policy"]);
    expect(policy.get("script-src"), path).toEqual(["'self'"]);
    expect(policy.get("default-src"), path).toEqual(["'self'"]);
    expect(policy.get("frame-ancestors"), path).toEqual(["'none'"]);
    expect(policy.get("connect-src"), path).toEqual(["'self'"]);
    expect(policy.get("object-src"), path).toEqual(["'none'"]);
    expect(h["content-security-policy"], path).not.toContain("unsafe-inline");
    expect(h["content-security-policy"], path).not.toContain("unsafe-eval");
    expect(h["x-content-type-options"], path).toBe("nosniff");
    expect(h["referrer-policy"], path).toBe("strict-origin-when-cross-origin");
    // Ignored by browsers over plain http (RFC 6797 §8.1); takes effect behind TLS.
    expect(h["strict-transport-security"], path).toMatch(/^max-age=\d{7,}/);
    // The built page has no inline script for the policy to refuse.
    const html = await r.text();
    expect(html, path).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
  }
});

test("the widget script stays embeddable on any site; API answers are not sniffed or cached", async ({ server, page }) => {
  const widget = await page.request.get(server.base + "/widget.js", { headers: { origin: "https://shop.example" } });
  expect(widget.status()).toBe(200);
  const w = widget.headers();
  expect(w["access-control-allow-origin"]).toBe("*");
  expect(w["x-content-type-options"]).toBe("nosniff");
  expect(w["content-security-policy"]).toBeUndefined();
  expect(w["x-frame-options"]).toBeUndefined();

  for (const path of ["/api/me", "/api/no-such-route", "/healthz"]) {
    const r = await page.request.get(server.base + path);
    const h = r.headers();
    expect(h["x-content-type-options"], path).toBe("nosniff");
    expect(h["cache-control"], path).toBe("no-store");
    // Plain http to 127.0.0.1: the worker sends HSTS only over https.
    expect(h["strict-transport-security"], path).toBeUndefined();
  }
});

test("the dashboard renders under its CSP with no violation, and may open a socket to its own origin", async ({ server, page }) => {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  page.on("pageerror", (e) => violations.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __violations: string[] }).__violations ??= [];
      (window as unknown as { __violations: string[] }).__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(server.base + "/login");
  // Something rendered into the app root: the bundle ran under the policy.
  await expect(page.locator("#app")).not.toBeEmpty();

  // connect-src 'self' covers ws: of the same host (CSP Level 3). The socket
  // is refused by the server (no token), but the browser let it be opened.
  const opened = await page.evaluate(
    (url) =>
      new Promise<string>((resolve) => {
        try {
          const ws = new WebSocket(url);
          ws.onerror = () => resolve("error");
          ws.onclose = () => resolve("closed");
          ws.onopen = () => resolve("open");
        } catch (e) {
          resolve(`blocked: ${e}`);
        }
      }),
    server.base.replace(/^http/, "ws") + "/api/live",
  );
  expect(opened).not.toContain("blocked");
  // While a script from another origin or an inline one is refused.
  const foreign = await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__inlineRan = true";
    document.head.appendChild(s);
    return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
  });
  expect(foreign).toBe(false);

  const inPage = await page.evaluate(() => (window as unknown as { __violations?: string[] }).__violations ?? []);
  // The one violation is the inline script this test injected on purpose.
  expect(inPage.filter((v) => !v.startsWith("script-src-elem inline") && !v.startsWith("script-src inline"))).toEqual([]);
  expect(inPage.length).toBe(1);
  expect(violations.filter((v) => !/inline script/i.test(v))).toEqual([]);
});
