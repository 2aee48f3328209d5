// Team settings: an admin invites a teammate, the teammate accepts the
// copied link in a second browser and then shows in Team; roles change and
// a teammate is removed; a member sees no admin settings.
import { test, expect, PASSWORD } from "../fixtures";
import { logIn } from "../support/dashboard";

test("invite a teammate, who accepts in a second browser and shows in Team", async ({ page, browser, workspace, shot }) => {
  await logIn(page, workspace, { path: "/settings/team" });
  const members = page.getByRole("list", { name: "Teammates" });
  await expect(members.getByRole("listitem")).toHaveCount(1);
  // The owner is never offered for removal; nobody changes their own role.
  await expect(members.getByRole("button", { name: /^Remove/ })).toHaveCount(0);

  const email = `dana-${Date.now()}@example.test`;
  await page.getByLabel("Email").fill(email);
  await page.getByRole("combobox", { name: "Role", exact: true }).selectOption("agent");
  await page.getByRole("button", { name: "Create invitation" }).click();
  const link = page.getByRole("textbox", { name: "Invitation link" });
  await expect(link).toHaveValue(/\/invitations\/accept#token=inv_/);
  const url = await link.inputValue();
  await expect(page.getByRole("list", { name: "Pending invitations" })).toContainText(email);

  // The teammate, in a browser of their own.
  const other = await browser.newContext();
  const theirs = await other.newPage();
  await theirs.goto(url);
  await theirs.getByLabel("Your name").fill("Dana Teammate");
  await theirs.getByLabel("Password").fill(PASSWORD);
  await theirs.getByRole("button", { name: "Join" }).click();
  await expect(theirs.getByRole("navigation", { name: "Main" })).toBeVisible();

  // A member sees only what it may change, and admin pages send it back.
  await theirs.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  const menu = theirs.getByRole("navigation", { name: "Settings" });
  await expect(menu.getByRole("link", { name: "Profile" })).toBeVisible();
  await expect(menu.getByRole("link")).toHaveCount(1);
  await theirs.goto(`${workspace.base}/settings/team`);
  await expect(theirs).toHaveURL(/\/settings\/profile$/);
  await expect(theirs.getByRole("heading", { name: "Profile" })).toBeVisible();

  // Back with the admin: Dana is a teammate now, the invitation is used.
  await page.reload();
  await expect(members.getByRole("listitem")).toHaveCount(2);
  await expect(members).toContainText("Dana Teammate");
  await expect(page.getByText("No invitations waiting.")).toBeVisible();
  await expect(page.getByRole("status", { name: /^Live/ })).toBeVisible();
  await shot(page, "settings-team");

  // Promoted to admin: the server holds the new role at once.
  await page.getByRole("combobox", { name: "Role of Dana Teammate" }).selectOption("admin");
  await expect
    .poll(async () => (await workspace.api("GET", "/api/agents")).agents.find((a: { name: string }) => a.name === "Dana Teammate")?.role)
    .toBe("admin");

  // Removed: named in the dialog, gone from the list, logged out there.
  await page.getByRole("button", { name: "Remove Dana Teammate" }).click();
  const dialog = page.getByRole("dialog", { name: "Remove Dana Teammate?" });
  await expect(dialog).toContainText("replies and notes stay");
  await dialog.getByRole("button", { name: "Remove" }).click();
  await expect(dialog).toBeHidden();
  await expect(members.getByRole("listitem")).toHaveCount(1);
  await theirs.reload();
  await expect(theirs.getByRole("button", { name: "Log in" })).toBeVisible();
  await other.close();
});

test("a withdrawn invitation's link no longer works", async ({ page, browser, workspace }) => {
  await logIn(page, workspace, { path: "/settings/team" });
  const email = `late-${Date.now()}@example.test`;
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Create invitation" }).click();
  const url = await page.getByRole("textbox", { name: "Invitation link" }).inputValue();
  await page.getByRole("button", { name: `Withdraw the invitation for ${email}` }).click();
  await page.getByRole("dialog", { name: "Withdraw this invitation?" }).getByRole("button", { name: "Withdraw" }).click();
  await expect(page.getByText("No invitations waiting.")).toBeVisible();
  const other = await browser.newContext();
  const theirs = await other.newPage();
  await theirs.goto(url);
  await theirs.getByLabel("Your name").fill("Late Comer");
  await theirs.getByLabel("Password").fill(PASSWORD);
  await theirs.getByRole("button", { name: "Join" }).click();
  await expect(theirs.getByRole("alert")).toContainText("withdrawn");
  await other.close();
});
