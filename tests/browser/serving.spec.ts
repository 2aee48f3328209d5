// The worker serves the built front end: the dashboard at / and at every
// client route (SPA fallback), the widget script, and JSON for the API.
import { test, expect } from "./fixtures";

test("the dashboard is served at / and at client routes; the API never falls back to it", async ({ server, page }) => {
  for (const path of ["/", "/conversations/cv_does_not_matter", "/login"]) {
    const r = await page.request.get(server.base + path);
    expect(r.status(), path).toBe(200);
    expect(r.headers()["content-type"], path).toContain("text/html");
    expect(await r.text(), path).toContain('<div id="app">');
  }
  const api = await page.request.get(server.base + "/api/no-such-route");
  expect(api.status()).toBe(404);
  expect(await api.json()).toEqual({ error: expect.stringContaining("no route") });

  const widget = await page.request.get(server.base + "/widget.js");
  expect(widget.status()).toBe(200);
  expect(widget.headers()["content-type"]).toContain("javascript");
});
