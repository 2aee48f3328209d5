// The composer: notes, canned responses, typing both ways, replies typed
// offline, drafts and queued replies that survive a reload.
import { test, expect } from "../fixtures";
import { logIn, liveOverWebSocket, messageWithText, timelineTexts } from "../support/dashboard";
import { visitorSession, visitorSocket, visitorFrames, visitorSends, visitorWrites } from "../support/visitor";

test("Shift+Enter is a new line; a private note stays inside Switchboard", async ({ page, workspace, fake }) => {
  await workspace.messenger([{ psid: "psid-note", mid: "m-note-1", text: "Hello" }]);
  const id = await workspace.conversationOf("psid-note");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await expect(messageWithText(page, "Hello")).toBeVisible();
  const box = page.getByLabel("Reply");
  await box.pressSequentially("line one");
  await box.press("Shift+Enter");
  await box.pressSequentially("line two");
  await expect(box).toHaveValue("line one\nline two");
  await page.getByRole("checkbox", { name: "Private note" }).check();
  const note = `internal ${Date.now()}`;
  await page.getByLabel("Private note", { exact: true }).and(page.locator("textarea")).fill(note);
  await page.getByRole("button", { name: "Add note" }).click();
  const shown = messageWithText(page, note);
  await expect(shown).toHaveAttribute("data-kind", "note");
  await expect(shown).toContainText("Private note");
  expect(fake.requests.filter((r) => r.body.includes(note))).toHaveLength(0);
});

test("/ offers canned responses by shortcode", async ({ page, workspace, fake }) => {
  await workspace.api("POST", "/api/canned_responses", { shortcode: "thanks", text: "Thank you for your patience!" });
  await workspace.api("POST", "/api/canned_responses", { shortcode: "hours", text: "We are open 9 to 5." });
  await workspace.messenger([{ psid: "psid-canned", mid: "m-c-1", text: "When are you open?" }]);
  const id = await workspace.conversationOf("psid-canned");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await page.getByLabel("Reply").fill("/ho");
  const options = page.getByRole("listbox", { name: "Canned responses" }).getByRole("option");
  await expect(options).toHaveCount(1);
  await expect(options.first()).toContainText("/hours");
  await page.getByLabel("Reply").press("Enter");
  await expect(page.getByLabel("Reply")).toHaveValue("We are open 9 to 5.");
  await page.getByLabel("Reply").press("Enter");
  await expect(messageWithText(page, "We are open 9 to 5.")).toHaveAttribute("data-status", /sent|delivered|read/);
  await expect.poll(() => fake.matching("/me/messages").filter((r) => r.json?.message?.text === "We are open 9 to 5.").length).toBe(1);
});

test("typing shows both ways with a website visitor", async ({ page, browser, workspace }) => {
  const v = await visitorSession(workspace);
  await visitorWrites(workspace, v, "Hi, I have a question");
  const visitor = await browser.newPage();
  await visitorSocket(visitor, workspace.base, v);
  await logIn(page, workspace, { path: `/conversations/${v.conversation_id}` });
  await expect(messageWithText(page, "Hi, I have a question")).toBeVisible();
  await expect(liveOverWebSocket(page).first()).toBeVisible();
  await expect(async () => {
    await visitorSends(visitor, { type: "typing" });
    await expect(page.getByText("The customer is typing…")).toBeVisible({ timeout: 1000 });
  }).toPass();
  await page.getByLabel("Reply").pressSequentially("Sure, ask away");
  await expect.poll(async () => (await visitorFrames(visitor)).some((f) => f?.type === "typing" && f?.role === "agent")).toBe(true);
  await page.getByLabel("Reply").press("Enter");
  await expect.poll(async () => (await visitorFrames(visitor)).some((f) => f?.type === "message_created" && f?.message?.text === "Sure, ask away")).toBe(true);
  await visitor.close();
});

test("a reply typed offline is kept and sent once the network is back", async ({ page, context, workspace, fake }) => {
  await workspace.messenger([{ psid: "psid-off", mid: "m-off-1", text: "Anyone?" }]);
  const id = await workspace.conversationOf("psid-off");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await expect(messageWithText(page, "Anyone?")).toBeVisible();
  await context.setOffline(true);
  const text = `typed offline ${Date.now()}`;
  await page.getByLabel("Reply").fill(text);
  await page.getByLabel("Reply").press("Enter");
  const pending = page.locator(`[role=log] article[data-status=pending]`, { hasText: text });
  await expect(pending).toBeVisible();
  await context.setOffline(false);
  await expect(messageWithText(page, text)).toHaveAttribute("data-status", /sent|delivered|read/, { timeout: 20_000 });
  await expect(page.locator("[role=log] article", { hasText: text })).toHaveCount(1);
  expect(fake.matching("/me/messages").filter((r) => r.json?.message?.text === text)).toHaveLength(1);
});

test("nothing typed is lost by a reload: drafts and queued replies survive it", async ({ page, workspace, fake }) => {
  await workspace.messenger([{ psid: "psid-reload", mid: "m-r-1", text: "Still there?" }]);
  const id = await workspace.conversationOf("psid-reload");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await expect(messageWithText(page, "Still there?")).toBeVisible();
  await page.getByLabel("Reply").fill("half a thought");
  await page.reload();
  await expect(page.getByLabel("Reply")).toHaveValue("half a thought");

  // The server is unreachable for replies: the one typed now waits in the queue across a reload.
  await page.route(/\/api\/conversations\/[^/]+\/messages$/, (route) =>
    route.request().method() === "POST" ? route.fulfill({ status: 503, body: '{"error":"unavailable"}' }) : route.fallback(),
  );
  const text = `queued ${Date.now()}`;
  await page.getByLabel("Reply").fill(text);
  await page.getByLabel("Reply").press("Enter");
  await expect(page.locator(`[role=log] article[data-status=pending]`, { hasText: text })).toBeVisible();
  await page.reload();
  await expect(page.locator(`[role=log] article[data-status=pending]`, { hasText: text })).toBeVisible();
  await page.unroute(/\/api\/conversations\/[^/]+\/messages$/);
  await expect(messageWithText(page, text)).toHaveAttribute("data-status", /sent|delivered|read/, { timeout: 20_000 });
  expect(await timelineTexts(page)).toEqual(["Still there?", text]);
  expect(fake.matching("/me/messages").filter((r) => r.json?.message?.text === text)).toHaveLength(1);
});
