// Files handed to the composer by a paste or a drop.

/** The first file of a paste or drop (a pasted screenshot is a file too), if any. */
export function fileFrom(e: ClipboardEvent | DragEvent): File | null {
  const data = "clipboardData" in e ? e.clipboardData : (e as DragEvent).dataTransfer;
  const files = data?.files;
  if (files && files.length) return files[0] ?? null;
  for (const item of Array.from(data?.items ?? [])) {
    if (item.kind === "file") {
      const f = item.getAsFile();
      if (f) return f;
    }
  }
  return null;
}
