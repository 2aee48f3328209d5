// Search finds a message, highlights the words, and opens the conversation at it.
import { test, expect } from "../fixtures";
import { logIn, messageWithText } from "../support/dashboard";

test("search finds a message and opens its conversation at that message", async ({ page, workspace }) => {
  const filler = Array.from({ length: 60 }, (_, i) => ({ psid: "psid-search", mid: `m-s-${i}`, text: `filler message ${i}` }));
  await workspace.messenger([{ psid: "psid-search", mid: "m-s-needle", text: "My pineapple order never arrived" }]);
  await workspace.messenger(filler);
  await workspace.messenger([{ psid: "psid-other", mid: "m-o-1", text: "Nothing to see here" }]);
  const id = await workspace.conversationOf("psid-search");
  await logIn(page, workspace);
  await page.keyboard.press("/");
  await expect(page).toHaveURL(/\/search/);
  await page.getByRole("searchbox", { name: "Search messages" }).fill("pineapp");
  await page.getByRole("searchbox", { name: "Search messages" }).press("Enter");
  const results = page.getByRole("list", { name: "Search results" }).getByRole("listitem");
  await expect(results).toHaveCount(1);
  await expect(results.first().locator("mark")).toHaveText("pineapple");
  await results.first().getByRole("button").click();
  await expect(page).toHaveURL(new RegExp(`/conversations/${id}\\?at=\\d+`));
  const hit = messageWithText(page, "My pineapple order never arrived");
  await expect(hit).toBeVisible();
  await expect(hit).toBeInViewport();
  // Later messages are there too, after it.
  await expect(messageWithText(page, "filler message 59")).toHaveCount(1);
});
