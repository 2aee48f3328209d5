// The website widget: one self-contained script, frontend/dist/widget.js.
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

export default defineConfig({
  resolve: {
    alias: { "@live": fileURLToPath(new URL("./live", import.meta.url)) },
  },
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: false,
    sourcemap: false,
    target: "es2020",
    lib: {
      entry: fileURLToPath(new URL("./widget/src/main.ts", import.meta.url)),
      formats: ["iife"],
      name: "SwitchboardWidget",
      fileName: () => "widget.js",
    },
  },
});
