// Two-way translation as agents and customers see it, against a
// LibreTranslate-compatible fake on 127.0.0.1: a German customer's message
// reads in English with the original one click away; the agent's English
// reply reaches the customer in German (Telegram, and the website widget);
// a provider that is down delays and loses nothing and the message says why.
import { test as base, expect, type Workspace } from "../fixtures";
import { logIn, messageWithText } from "../support/dashboard";
import { CustomerSite } from "../support/customer-site";
import { FakeTranslate } from "../support/fake-translate";

const test = base.extend<{ translate: FakeTranslate }, { site: CustomerSite }>({
  translate: async ({}, use) => {
    const f = new FakeTranslate();
    await f.start();
    await use(f);
    await f.stop();
  },
  site: [
    async ({ server }, use) => {
      const site = new CustomerSite(server.base);
      await site.start();
      await use(site);
      await site.stop();
    },
    { scope: "worker" },
  ],
});

async function turnOn(ws: Workspace, tr: FakeTranslate): Promise<void> {
  await ws.api("PATCH", "/api/workspace", { translation: { provider: "libretranslate", url: tr.base, api_key: tr.apiKey }, language: "en" });
  await ws.api("PATCH", "/api/me", { language: "en" });
}

test("a German customer on Telegram: the agent reads English, the original one click away; the customer receives German", async ({
  page, workspace, fake, translate, shot,
}) => {
  await turnOn(workspace, translate);
  expect((await workspace.telegram(9101, 5550101, "Hallo, wo ist meine Bestellung?", "Jonas", "de")).status).toBe(200);
  const id = await workspace.conversationOf("5550101");
  await logIn(page, workspace, { path: `/conversations/${id}` });

  await expect(messageWithText(page, "Hello, where is my order?")).toBeVisible();
  // The same message whichever text it shows.
  const mid = await messageWithText(page, "Hello, where is my order?").getAttribute("data-message-id");
  const asked = page.locator(`[role=log] [data-message-id="${mid}"]`);
  await expect(asked.getByTestId("translation")).toHaveText(/Translated from German/);
  await asked.getByRole("button", { name: "Show original" }).click();
  await expect(asked.getByTestId("message-text")).toHaveText("Hallo, wo ist meine Bestellung?");
  await asked.getByRole("button", { name: "Show translation" }).click();
  await expect(asked.getByTestId("message-text")).toHaveText("Hello, where is my order?");
  await expect(page.getByTestId("customer-language")).toHaveText("German");

  const translateReply = page.getByRole("checkbox", { name: "Translate into German" });
  await expect(translateReply).toBeChecked();
  await page.getByLabel("Reply").fill("Your parcel ships tomorrow.");
  await page.getByLabel("Reply").press("Enter");
  await expect.poll(() => fake.matching("/sendMessage").filter((r) => r.json?.text === "Ihr Paket wird morgen versandt.").length).toBe(1);
  const reply = messageWithText(page, "Your parcel ships tomorrow.");
  await expect(reply.getByTestId("message-text")).toHaveText("Your parcel ships tomorrow.");
  await expect(reply.getByTestId("translation")).toContainText("Sent in German:");
  await expect(reply.getByTestId("translation-sent")).toHaveText("Ihr Paket wird morgen versandt.");
  await shot(page, "translation");

  // One reply as written: the provider never sees it, the customer gets the original.
  await translateReply.uncheck();
  await page.getByLabel("Reply").fill("Thanks for waiting.");
  await page.getByLabel("Reply").press("Enter");
  await expect.poll(() => fake.matching("/sendMessage").filter((r) => r.json?.text === "Thanks for waiting.").length).toBe(1);
  await expect(messageWithText(page, "Thanks for waiting.").getByTestId("translation")).toContainText("Sent as written");
  expect(translate.translated("Thanks for waiting.")).toHaveLength(0);
  expect(fake.matching("/sendMessage").filter((r) => r.json?.text === "Danke fürs Warten.")).toHaveLength(0);

  // A private note never reaches the provider.
  await page.getByRole("checkbox", { name: "Private note" }).check();
  await page.getByLabel("Private note", { exact: true }).and(page.locator("textarea")).fill("Thanks for waiting.");
  await page.getByRole("button", { name: "Add note" }).click();
  await expect(page.locator("[role=log] [data-kind=note]", { hasText: "Thanks for waiting." })).toBeVisible();
  expect(translate.translated("Thanks for waiting.")).toHaveLength(0);
  expect(translate.violations).toEqual([]);
});

test("a provider that is down delays and loses nothing; the message says why and is translated on request", async ({
  page, workspace, translate,
}) => {
  await turnOn(workspace, translate);
  translate.down = true;
  const started = Date.now();
  expect((await workspace.telegram(9201, 5550201, "Danke!", "Lena", "de")).status).toBe(200);
  const answeredIn = Date.now() - started;
  const id = await workspace.conversationOf("5550201");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  const msg = messageWithText(page, "Danke!");
  await expect(msg.getByTestId("translation")).toContainText("Not translated:");
  await expect(msg.getByTestId("translation")).toContainText("HTTP 500");
  translate.down = false;
  await msg.getByRole("button", { name: /Translate now|Translating/ }).click();
  await expect(messageWithText(page, "Thanks!").getByTestId("translation")).toHaveText(/Translated from German/);
  // The webhook's answer did not wait for the provider (its answer is a few ms on a quiet machine; bounded loosely here).
  expect(answeredIn).toBeLessThan(3000);
});

test.describe("a visitor whose browser speaks German", () => {
  test.use({ locale: "de-DE" });
  test("writes German in the widget and reads the agent's English reply in German", async ({ page, browser, workspace, translate, site }) => {
    await turnOn(workspace, translate);
    // An agent is online, so the widget offers a chat rather than the offline form.
    const agent = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 800 } });
    const dash = await agent.newPage();
    await logIn(dash, workspace);
    await page.goto(site.page(workspace.inboxes.widget!.id));
    await page.getByRole("button", { name: "Chat with us" }).click();
    const chat = page.getByRole("dialog");
    await chat.getByRole("textbox", { name: "Message" }).fill("Hallo, wo ist meine Bestellung?");
    await chat.getByRole("button", { name: "Send" }).click();

    let id = "";
    await expect
      .poll(async () => {
        const list = await workspace.api("GET", "/api/conversations?status=all");
        id = list.conversations.find((c: any) => c.channel === "widget")?.id ?? "";
        return id;
      })
      .not.toBe("");
    await dash.goto(`${workspace.base}/conversations/${id}`);
    await expect(messageWithText(dash, "Hello, where is my order?")).toBeVisible();
    await dash.getByLabel("Reply").fill("Your parcel ships tomorrow.");
    await dash.getByLabel("Reply").press("Enter");
    await expect(chat.getByText("Ihr Paket wird morgen versandt.")).toBeVisible();
    await expect(chat.getByText("Your parcel ships tomorrow.")).toHaveCount(0);
    await agent.close();
  });
});
