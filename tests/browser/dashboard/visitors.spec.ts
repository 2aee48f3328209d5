// Online visitors, live, and a proactive chat started from that page.
import { test, expect } from "../fixtures";
import { logIn, messageWithText } from "../support/dashboard";
import { visitorSession, visitorSocket, visitorFrames, visitorWrites } from "../support/visitor";

test("an online visitor appears live and Start chat writes to them", async ({ page, browser, workspace }) => {
  await logIn(page, workspace);
  await page.getByRole("link", { name: "Visitors" }).click();
  await expect(page.getByText("No visitors on your website right now.")).toBeVisible();

  const v = await visitorSession(workspace, "Walter Web");
  // Today a visitor's conversation exists once they have written (the widget's back end may lift that).
  await visitorWrites(workspace, v, "Just looking around", "Walter Web");
  const visitor = await browser.newPage();
  await visitorSocket(visitor, workspace.base, v);
  const entry = page.locator(`[data-conversation-id="${v.conversation_id}"]`);
  await expect(entry).toContainText("Walter Web");
  await entry.getByRole("button", { name: "Start chat" }).click();
  await entry.getByLabel("Reply").fill("Hello Walter, can I help you find something?");
  await entry.getByRole("button", { name: "Send" }).click();
  await expect(page).toHaveURL(new RegExp(`/conversations/${v.conversation_id}$`));
  await expect(messageWithText(page, "Hello Walter, can I help you find something?")).toBeVisible();
  await expect
    .poll(async () => (await visitorFrames(visitor)).some((f) => f?.type === "message_created" && f?.message?.text?.startsWith("Hello Walter")))
    .toBe(true);

  // The visitor leaves: they leave the list too.
  await visitor.close();
  await page.getByRole("link", { name: "Visitors" }).click();
  await expect(page.locator(`[data-conversation-id="${v.conversation_id}"]`)).toHaveCount(0);
});
