// Canned responses in settings: create one, edit it, and the composer
// inserts the edited text; the browser refuses a bad shortcode before the
// server sees it, and the server's reason shows in the form.
import { test, expect } from "../fixtures";
import { logIn, messageWithText } from "../support/dashboard";

test("edit a canned response in settings, then use it in the composer", async ({ page, workspace, fake }) => {
  await workspace.messenger([{ psid: "psid-canned-edit", mid: "m-ce-1", text: "When are you open?" }]);
  const id = await workspace.conversationOf("psid-canned-edit");
  await logIn(page, workspace, { path: "/settings/canned" });

  const form = page.getByRole("form", { name: "New canned response" });
  await form.getByLabel("Shortcode").fill("hours");
  await form.getByLabel("Text").fill("We are open 9 to 5.");
  await form.getByRole("button", { name: "Add" }).click();
  const list = page.getByRole("list", { name: "All canned responses" });
  await expect(list).toContainText("We are open 9 to 5.");

  // A taken shortcode: the server's one-line reason, in the form.
  await form.getByLabel("Shortcode").fill("hours");
  await form.getByLabel("Text").fill("Another text");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(form.getByRole("alert")).toContainText("already has a canned response with that shortcode");
  // A shortcode the browser itself refuses never reaches the server.
  await form.getByLabel("Shortcode").fill("Not Valid");
  await form.getByRole("button", { name: "Add" }).click();
  expect(await form.getByLabel("Shortcode").evaluate((el: HTMLInputElement) => el.validity.valid)).toBe(false);
  await form.getByLabel("Shortcode").fill("");
  await form.getByLabel("Text").fill("");

  await page.getByRole("button", { name: "Edit /hours" }).click();
  const edit = page.getByRole("form", { name: "Edit /hours" });
  await edit.getByLabel("Text").fill("We are open 8 to 6, Monday to Saturday.");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(list).toContainText("We are open 8 to 6, Monday to Saturday.");
  await expect(list).not.toContainText("9 to 5");

  // The composer uses the edited text.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Inbox" }).click();
  await page.goto(`${workspace.base}/conversations/${id}`);
  await page.getByLabel("Reply").fill("/hou");
  const options = page.getByRole("listbox", { name: "Canned responses" }).getByRole("option");
  await expect(options.first()).toContainText("/hours");
  await page.getByLabel("Reply").press("Enter");
  await expect(page.getByLabel("Reply")).toHaveValue("We are open 8 to 6, Monday to Saturday.");
  await page.getByLabel("Reply").press("Enter");
  await expect(messageWithText(page, "We are open 8 to 6, Monday to Saturday.")).toHaveAttribute("data-status", /sent|delivered|read/);
  await expect
    .poll(() => fake.matching("/me/messages").filter((r) => r.json?.message?.text === "We are open 8 to 6, Monday to Saturday.").length)
    .toBe(1);

  // Deleted, after a confirmation that says what stays.
  await page.goto(`${workspace.base}/settings/canned`);
  await page.getByRole("button", { name: "Delete /hours" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete /hours?" });
  await expect(dialog).toContainText("keep their text");
  await dialog.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByText("None yet.")).toBeVisible();
  expect((await workspace.api("GET", "/api/canned_responses")).canned_responses).toHaveLength(0);
});
