// Two-way translation as agents and customers see it, against a
// LibreTranslate-compatible fake on 127.0.0.1: a German customer's message
// reads in English with the original one click away; the agent's English
// reply reaches the customer in German (Telegram, and the website widget);
// a provider that is down delays and loses nothing and the message says why.
import { test as base, expect, type Workspace } from "../fixtures";
import { logIn, messageWithText } from "../support/dashboard";
import { FakeTranslate } from "../support/fake-translate";

const test = base.extend<{ translate: FakeTranslate }>({
  translate: async ({}, use) => {
    const f = new FakeTranslate();
    await f.start();
    await use(f);
    await f.stop();
  },
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

test("on Messenger the language is detected while the agent watches: the reply box offers German at once", async ({ page, workspace, fake, translate }) => {
  await turnOn(workspace, translate);
  await workspace.messenger([{ psid: "psid-de", mid: "m-de-0", text: "Hello" }]);
  const id = await workspace.conversationOf("psid-de");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await expect(messageWithText(page, "Hello")).toBeVisible();
  await expect(page.getByRole("checkbox", { name: /Translate into/ })).toHaveCount(0);
  await workspace.messenger([{ psid: "psid-de", mid: "m-de-1", text: "Ich habe gestern eine Bestellung aufgegeben und warte noch auf die Bestätigung." }]);
  await expect(messageWithText(page, "I placed an order yesterday and am still waiting for the confirmation.")).toBeVisible();
  await expect(page.getByRole("checkbox", { name: "Translate into German" })).toBeChecked();
  await expect(page.getByTestId("customer-language")).toHaveText("German");
  await page.getByLabel("Reply").fill("Your parcel ships tomorrow.");
  await page.getByLabel("Reply").press("Enter");
  await expect.poll(() => fake.matching("/me/messages").filter((r) => r.json?.message?.text === "Ihr Paket wird morgen versandt.").length).toBe(1);
});

test.describe("a visitor whose browser speaks German", () => {
  test.use({ locale: "de-DE" });
  test("writes German in the widget and reads the agent's English reply in German", async ({ page, browser, workspace, translate, site }) => {
    await turnOn(workspace, translate);
    // An agent is online, so the widget offers a chat rather than the offline form.
    const agent = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 800 } });
    const dash = await agent.newPage();
    await logIn(dash, workspace);
    // Online once the feed socket is open, not when the inbox shows.
    await expect(dash.getByRole("status").filter({ hasText: "Live" }).first()).toBeVisible();
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

test("an admin turns translation on in Settings; the key is never shown again; a member sees no such page", async ({
  page, browser, workspace, translate,
}) => {
  await logIn(page, workspace, { path: "/settings/translation" });
  await expect(page.getByRole("heading", { name: "Translation" })).toBeVisible();
  await page.getByRole("radio", { name: /LibreTranslate/ }).check();
  await page.getByLabel("Server address").fill("ftp://nowhere");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toContainText("http:// or https://");
  await page.getByLabel("Server address").fill(translate.base);
  await page.getByLabel("API key").fill("wrong-key");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  // Write-only: after a reload the page says a key is set and shows no value.
  await page.reload();
  await expect(page.getByTestId("api-key-state")).toContainText("A key is saved");
  await expect(page.getByLabel("API key")).toHaveValue("");
  expect(await page.content()).not.toContain("wrong-key");
  // A refused key loses nothing and says so on the message.
  expect((await workspace.telegram(9301, 5550301, "Danke!", "Mia", "de")).status).toBe(200);
  const id = await workspace.conversationOf("5550301");
  await page.goto(`${workspace.base}/conversations/${id}`);
  await expect(messageWithText(page, "Danke!").getByTestId("translation")).toContainText("Not translated:");
  // The right key: the next message is translated.
  await page.goto(`${workspace.base}/settings/translation`);
  await page.getByLabel("API key").fill(translate.apiKey);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  expect((await workspace.telegram(9302, 5550301, "Ist das Paket schon unterwegs?", "Mia", "de")).status).toBe(200);
  await page.goto(`${workspace.base}/conversations/${id}`);
  await expect(messageWithText(page, "Is the parcel on its way yet?")).toBeVisible();

  // A member: no Translation entry, and the server refuses the change anyway.
  const invite = await workspace.api("POST", "/api/invitations", { email: `m-${Date.now()}@example.test`, role: "agent" });
  const accepted = await fetch(`${workspace.base}/api/invitations/accept`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: invite.token, name: "Max Member", password: "member password 123" }),
  }).then((r) => r.json());
  const refused = await workspace.raw("PATCH", "/api/workspace", { translation: { provider: "off" } }, accepted.token);
  expect(refused.status).toBe(403);
  const member = await browser.newContext();
  const mp = await member.newPage();
  await mp.goto(workspace.base);
  await mp.evaluate((tok) => localStorage.setItem("sb.token", tok), accepted.token);
  await mp.goto(`${workspace.base}/settings/translation`);
  await expect(mp.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(mp.getByRole("link", { name: "Translation" })).toHaveCount(0);
  await expect(mp.getByRole("heading", { name: "Translation" })).toHaveCount(0);
  await member.close();
});
