// API keys in settings: a key is shown once with a copy field, works from
// outside the browser (a plain fetch, as curl would), and once revoked is
// refused at once.
import { test, expect } from "../fixtures";
import { logIn } from "../support/dashboard";

test("create an API key shown once, use it, revoke it and see it refused", async ({ page, context, workspace }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: workspace.base });
  await logIn(page, workspace, { path: "/settings/api-keys" });
  const form = page.getByRole("form", { name: "New API key" });
  await form.getByLabel("Name").fill("CRM sync");
  await form.getByRole("radio", { name: "Read only" }).check();
  await form.getByRole("button", { name: "Create key" }).click();
  const shown = page.getByRole("textbox", { name: "API key" });
  await expect(shown).toHaveValue(/^sbk_[0-9a-f]{48}$/);
  const key = await shown.inputValue();
  // The copy button puts exactly the key on the clipboard.
  await page.getByRole("button", { name: "Copy API key" }).click();
  await expect(page.getByRole("button", { name: "Copy API key" })).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);

  const asKey = (method: string, path: string, body?: unknown) =>
    fetch(workspace.base + path, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  expect((await asKey("GET", "/api/conversations")).status).toBe(200);
  // Read only: writes are refused.
  expect((await asKey("POST", "/api/labels", { name: "x", color: "#000000" })).status).toBe(403);

  // Shown once: gone from the page when dismissed, and never listed again.
  await page.getByRole("button", { name: "I have copied it" }).click();
  await expect(shown).toHaveCount(0);
  await page.reload();
  const list = page.getByRole("list", { name: "Active keys" });
  await expect(list).toContainText("CRM sync");
  await expect(list).toContainText(`sbk_…${key.slice(-4)}`);
  expect(await page.content()).not.toContain(key);

  await page.getByRole("button", { name: "Revoke the key CRM sync" }).click();
  await page.getByRole("dialog", { name: "Revoke CRM sync?" }).getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByText("No active keys.")).toBeVisible();
  expect((await asKey("GET", "/api/conversations")).status).toBe(401);
});
