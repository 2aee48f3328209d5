// Playwright fixtures: one real worker and one fake platform per Playwright
// worker process; a freshly signed-up workspace per test.
import { test as base, expect, type Page } from "@playwright/test";
import path from "node:path";
import fs from "node:fs";
import { WorkerServer } from "./support/server";
import { FakePlatform } from "./support/fake-platform";
import { CustomerSite } from "./support/customer-site";
import { signUp, Workspace, BOT_TOKEN, PAGE_ID, PAGE_TOKEN, WA_TOKEN } from "./support/workspace";

export { expect };
export * from "./support/workspace";

export const screenshotDir = path.join(__dirname, "artifacts/screenshots");

export const test = base.extend<
  { workspace: Workspace; shot: (page: Page, name: string) => Promise<void> },
  { fake: FakePlatform; server: WorkerServer; site: CustomerSite }
>({
  fake: [
    async ({}, use) => {
      const fake = new FakePlatform();
      await fake.start();
      for (const t of [PAGE_TOKEN, WA_TOKEN, BOT_TOKEN]) fake.acceptToken(t);
      fake.acceptPage(PAGE_TOKEN, PAGE_ID, "Browser Test Page");
      await use(fake);
      await fake.stop();
    },
    { scope: "worker" },
  ],
  server: [
    async ({ fake }, use) => {
      const server = new WorkerServer({ GRAPH_API_BASE: fake.base, TELEGRAM_API_BASE: fake.base });
      await server.start();
      await use(server);
      server.stop();
    },
    { scope: "worker", timeout: 120_000 },
  ],
  // A business's website on its own origin that embeds the widget (started only by the tests that ask for it).
  site: [
    async ({ server }, use) => {
      const site = new CustomerSite(server.base);
      await site.start();
      await use(site);
      await site.stop();
    },
    { scope: "worker" },
  ],
  workspace: async ({ server }, use) => {
    await use(await signUp(server.base));
  },
  shot: async ({}, use) => {
    fs.mkdirSync(screenshotDir, { recursive: true });
    await use(async (page, name) => {
      await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: false });
    });
  },
});
