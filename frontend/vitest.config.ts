import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

export default defineConfig({
  resolve: {
    alias: {
      "@live": fileURLToPath(new URL("./live", import.meta.url)),
      "@api": fileURLToPath(new URL("./api", import.meta.url)),
    },
  },
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", "dist/**"],
    environment: "node",
  },
});
