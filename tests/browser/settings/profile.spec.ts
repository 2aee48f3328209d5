// Profile and workspace settings: changes are kept on the server, the
// browser checks what it can, the server's reason shows next to the field
// it names, and the audit log reads who did what.
import { test, expect, PASSWORD } from "../fixtures";
import { logIn } from "../support/dashboard";

test("profile: name, picture and working language saved; a wrong password refused beside its field", async ({ page, workspace }) => {
  await logIn(page, workspace, { path: "/settings/profile" });
  const you = page.getByRole("form", { name: "You" });
  await you.getByLabel("Name").fill("Sam Renamed");
  await you.getByLabel("Picture (URL)").fill("http://insecure.example/me.png");
  await you.getByRole("button", { name: "Save" }).click();
  // Not https: the browser holds it back.
  expect(await you.getByLabel("Picture (URL)").evaluate((el: HTMLInputElement) => el.validity.valid)).toBe(false);
  await you.getByLabel("Picture (URL)").fill("https://images.example/sam.png");
  await you.getByLabel("Working language").fill("de");
  await you.getByRole("button", { name: "Save" }).click();
  await expect(you.getByRole("status")).toHaveText("Saved");
  await expect(page.getByRole("button", { name: "Your preferences" })).toContainText("Sam Renamed");
  const me = await workspace.api("GET", "/api/me");
  expect([me.name, me.avatar_url, me.language]).toEqual(["Sam Renamed", "https://images.example/sam.png", "de"]);

  const pw = page.getByRole("form", { name: "Password" });
  await pw.getByLabel("Current password").fill("not my password");
  await pw.getByLabel("New password", { exact: true }).fill("a brand new password");
  await pw.getByLabel("New password again").fill("a brand new password");
  await pw.getByRole("button", { name: "Change password" }).click();
  const current = pw.locator("label").filter({ hasText: "Current password" });
  await expect(current.getByRole("alert")).toHaveText("current_password is wrong");
  await pw.getByLabel("Current password").fill(PASSWORD);
  await pw.getByRole("button", { name: "Change password" }).click();
  await expect(pw.getByRole("status")).toContainText("Password changed");
  // The page carries on with the fresh token.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Profile" })).toBeVisible();
});

test("workspace: time zone and business hours saved; the audit log shows who changed a role", async ({ page, workspace }) => {
  const inv = await workspace.api("POST", "/api/invitations", { email: `role-${Date.now()}@example.test`, role: "agent" });
  const joined = await (
    await fetch(`${workspace.base}/api/invitations/accept`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: inv.token, name: "Rita Agent", password: PASSWORD }),
    })
  ).json();
  await workspace.api("PATCH", `/api/agents/${joined.agent_id}`, { role: "admin" });

  await logIn(page, workspace, { path: "/settings/workspace" });
  await page.getByLabel("Workspace name").fill("Acme Support");
  await page.getByLabel("Time zone").selectOption("Asia/Shanghai");
  await page.getByLabel("Set business hours").check();
  await page.getByLabel("Monday opens").fill("08:30");
  await page.getByLabel("Monday closes").fill("18:00");
  const form = page.getByRole("form", { name: "Workspace" });
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("status")).toHaveText("Saved");
  const w = await workspace.api("GET", "/api/workspace");
  expect(w.name).toBe("Acme Support");
  expect(w.settings.time_zone).toBe("Asia/Shanghai");
  expect(w.settings.business_hours.weekly[0]).toEqual({ day: "mon", from: "08:30", to: "18:00" });

  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Audit log" }).click();
  const row = page.locator('tr[data-action="change_role"]');
  await expect(row).toContainText("Changed a role from agent to admin");
  await expect(row).toContainText("Rita Agent");
});
