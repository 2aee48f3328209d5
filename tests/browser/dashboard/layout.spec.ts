// The phone-width layout (one pane at a time, with a back button) and the
// screenshots of the inbox for the README.
import { test, expect } from "../fixtures";
import { logIn, row, messageWithText } from "../support/dashboard";

test("at 390×844 one pane shows at a time, with a back button", async ({ page, workspace, shot }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await workspace.messenger([{ psid: "psid-phone", mid: "m-p-1", text: "Hi from my phone" }]);
  await workspace.telegram(9001, 557001, "Another customer", "Ivan");
  const id = await workspace.conversationOf("psid-phone");
  await workspace.conversationOf("557001");
  await logIn(page, workspace);
  await expect(row(page, id)).toBeVisible();
  await row(page, id).click();
  await expect(messageWithText(page, "Hi from my phone")).toBeVisible();
  await expect(row(page, id)).toBeHidden();
  await page.getByLabel("Reply").fill("Hello! How can I help?");
  await page.getByLabel("Reply").press("Enter");
  await expect(messageWithText(page, "Hello! How can I help?")).toHaveAttribute("data-status", /sent|delivered|read/);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await shot(page, "dashboard-phone");
  await page.getByRole("link", { name: "Back" }).click();
  await expect(row(page, id)).toBeVisible();
  // Read as it was seen, even when the agent goes back at once.
  await expect(row(page, id).getByLabel("1 unread")).toHaveCount(0);
  await expect(page.getByRole("log")).toHaveCount(0);
  await shot(page, "dashboard-phone-list");
});

test("desktop inbox with a few conversations, one open", async ({ page, workspace, shot }) => {
  await workspace.whatsapp("15551230001", "wamid.shot1", "Hello, is the blue jacket still in stock in size M?", "Maria Garcia");
  await workspace.telegram(9101, 558001, "Can I change the delivery address for order 4417?", "Kenji");
  await workspace.messenger([
    { psid: "psid-shot", mid: "m-shot-1", text: "Hi! My package arrived damaged 😞" },
    { psid: "psid-shot", mid: "m-shot-2", text: "Tracking: https://example.com/track/ZX81" },
  ]);
  const id = await workspace.conversationOf("psid-shot");
  await workspace.conversationOf("15551230001");
  await workspace.conversationOf("558001");
  await workspace.api("POST", `/api/conversations/${id}/messages`, { text: "Customer sent photos by email too.", kind: "note" });
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await expect(messageWithText(page, "Customer sent photos")).toBeVisible();
  await page.getByLabel("Reply").fill("I'm so sorry! We'll send a replacement today.");
  await page.getByLabel("Reply").press("Enter");
  await expect(messageWithText(page, "replacement today")).toHaveAttribute("data-status", /sent|delivered|read/);
  await page.getByRole("button", { name: "Assign", exact: true }).click();
  await page.getByRole("menuitem", { name: "Assign to me" }).click();
  await expect(page.getByRole("button", { name: "Assigned: Alice Agent" })).toBeVisible();
  await expect(page.locator("[data-conversation-id]")).toHaveCount(3);
  await shot(page, "dashboard-inbox-desktop");
});

test("the interface switches to Simplified Chinese", async ({ page, workspace }) => {
  await workspace.telegram(9201, 559001, "你好，我的订单什么时候发货？", "李雷", "zh-hans");
  const id = await workspace.conversationOf("559001");
  await logIn(page, workspace, { path: `/conversations/${id}` });
  await page.getByRole("button", { name: "Your preferences" }).click();
  await page.getByLabel("Language").selectOption("zh-CN");
  await expect(page.getByRole("navigation", { name: "主导航" }).getByRole("link", { name: "收件箱" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("link", { name: "收件箱" })).toBeVisible();
  await expect(page.getByRole("button", { name: "解决" })).toBeVisible();
});
