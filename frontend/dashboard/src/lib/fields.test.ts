import { describe, expect, it } from "vitest";
import { fieldOf } from "./fields";

describe("fieldOf", () => {
  const fields = ["name", "color", "time_zone", "business_hours", "avatar_url"] as const;
  it("finds the field a reason starts with", () => {
    expect(fieldOf("color must be a hex color like #3b82f6", fields)).toBe("color");
    expect(fieldOf("avatar_url must be an https:// URL", fields)).toBe("avatar_url");
  });
  it("reads through the settings. prefix and nested names", () => {
    expect(fieldOf("settings.time_zone must be a time zone like Europe/Berlin", fields)).toBe("time_zone");
    expect(fieldOf("settings.business_hours.weekly[].day must be one of mon", fields)).toBe("business_hours");
  });
  it("does not match a field that is only a prefix of another word", () => {
    expect(fieldOf("names are taken", fields)).toBeNull();
    expect(fieldOf("this workspace already has a label with that name", fields)).toBeNull();
  });
});
