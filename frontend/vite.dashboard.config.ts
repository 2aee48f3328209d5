// The agent dashboard: a Vue SPA built into frontend/dist (the worker's
// static assets; wrangler.toml falls back to index.html for client routes).
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";
import tailwindcss from "@tailwindcss/vite";
import { fileURLToPath } from "node:url";

export default defineConfig({
  root: fileURLToPath(new URL("./dashboard", import.meta.url)),
  base: "/",
  plugins: [vue(), tailwindcss()],
  resolve: {
    alias: {
      "@live": fileURLToPath(new URL("./live", import.meta.url)),
      "@api": fileURLToPath(new URL("./api", import.meta.url)),
    },
  },
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: false,
    sourcemap: false,
    target: "es2022",
  },
});
