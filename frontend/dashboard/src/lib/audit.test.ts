import { describe, expect, it } from "vitest";
import { auditDetail } from "./audit";

describe("auditDetail", () => {
  it("reads a role change and a key's scopes into words", () => {
    expect(auditDetail({ detail: '{"from":"admin","to":"agent"}' })).toEqual({ from: "admin", to: "agent" });
    expect(auditDetail({ detail: '{"scopes":["read","write"]}' })).toEqual({ scopes: "read, write" });
  });
  it("keeps going on a detail that is not JSON", () => {
    expect(auditDetail({ detail: "not json" })).toEqual({});
  });
});
