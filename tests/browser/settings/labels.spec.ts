// Labels in settings: names conversations carry show with their counts,
// an admin adds one to the catalog, renames it (the conversations follow)
// and deletes it (the conversations stay, without it).
import { test, expect } from "../fixtures";
import { logIn } from "../support/dashboard";

test("create, rename and delete a label, with counts that follow the conversations", async ({ page, workspace }) => {
  await workspace.messenger([
    { psid: "psid-lab-1", mid: "m-lab-1", text: "one" },
    { psid: "psid-lab-2", mid: "m-lab-2", text: "two" },
  ]);
  const a = await workspace.conversationOf("psid-lab-1");
  const b = await workspace.conversationOf("psid-lab-2");
  await workspace.api("PATCH", `/api/conversations/${a}`, { labels: ["vip"] });
  await workspace.api("PATCH", `/api/conversations/${b}`, { labels: ["vip", "billing"] });
  const labelsOf = async (id: string) =>
    ((await workspace.api("GET", "/api/conversations?status=all")).conversations.find((c: { id: string }) => c.id === id)?.labels ?? null) as string[] | null;
  await expect.poll(() => labelsOf(b)).toEqual(["vip", "billing"]);

  await logIn(page, workspace, { path: "/settings/labels" });
  const unlisted = page.getByRole("list", { name: "Labels in use but not in the list" });
  await expect(unlisted.getByRole("listitem").filter({ hasText: "vip" })).toContainText("2 conversations");
  await page.getByRole("button", { name: "Add vip to the labels" }).click();
  const catalog = page.getByRole("list", { name: "Labels", exact: true });
  await expect(catalog.locator('[data-label="vip"]')).toContainText("2 conversations");

  // A new one from the form: none carry it yet; a taken name is refused with the server's reason.
  const form = page.getByRole("form", { name: "New label" });
  await form.getByLabel("Name").fill("Returns");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(catalog.locator('[data-label="Returns"]')).toContainText("no conversations");
  await form.getByLabel("Name").fill("VIP");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(page.getByRole("alert")).toContainText("already has a label with that name");

  // Renamed: both conversations carry the new name.
  await page.getByRole("button", { name: "Edit label vip" }).click();
  const edit = page.getByRole("form", { name: "Edit label vip" });
  await edit.getByRole("textbox", { name: "Name" }).fill("gold");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Renamed on 2 conversations." })).toBeVisible();
  await expect(catalog.locator('[data-label="gold"]')).toContainText("2 conversations");
  await expect(catalog.locator('[data-label="vip"]')).toHaveCount(0);
  await expect.poll(() => labelsOf(a)).toEqual(["gold"]);
  await expect.poll(() => labelsOf(b)).toEqual(["gold", "billing"]);

  // Deleted: the confirmation says how many carry it; they stay, without it.
  await page.getByRole("button", { name: "Delete label gold" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete the label gold?" });
  await expect(dialog).toContainText("removed from the 2 conversations");
  await dialog.getByRole("button", { name: "Delete label" }).click();
  await expect(catalog.locator('[data-label="gold"]')).toHaveCount(0);
  await expect.poll(() => labelsOf(a)).toEqual([]);
  await expect.poll(() => labelsOf(b)).toEqual(["billing"]);
});
