// Files in the widget: a stored file of the visitor's conversation is
// fetched with the visitor's token (the page's origin has no cookie of
// ours) and shown from a blob URL — an image inline, anything else as a
// download link; the visitor attaches a file with a button. Only ids of
// the form the server gives are ever requested.

import type { Api } from "./api";
import { h } from "./dom";
import type { Strings } from "./i18n";

export interface Attachment {
  id?: string;
  url?: string;
  filename?: string;
  mime_type?: string;
  state?: string;
}

const ID = /^at_[0-9a-f]{52}$/;

/** The node that shows `a` (loading in the background), or null when it is not a stored file. */
export function attachmentNode(a: Attachment | undefined, kind: string, api: Api, t: Strings): HTMLElement | null {
  const id = a?.url?.split("/").pop() ?? "";
  if (!a || !ID.test(id)) return null;
  const name = a.filename || t.file;
  const box = h("div", { class: "file" }, name);
  void fetch(`${api.base}/api/widget/attachments/${id}`, { headers: api.auth() })
    .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
    .then(async (blob) => {
      box.textContent = "";
      // The server's type decides: only images are shown, and never SVG.
      // A data: URL, as host pages' CSPs allow those for images far more
      // often than blob:.
      if (kind === "image" && /^image\/(png|jpeg|gif|webp|avif|bmp)$/.test(blob.type)) {
        box.append(h("img", { src: await dataUrl(blob), alt: name }));
      } else {
        box.append(h("a", { href: URL.createObjectURL(blob), download: name }, `📎 ${name}`));
      }
    })
    .catch(() => (box.textContent = `📎 ${name}`));
  return box;
}

function dataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** Uploads `file` for the visitor's conversation: its id, or the server's one-line reason. */
export async function upload(api: Api, file: File): Promise<{ id: string } | { error: string }> {
  try {
    const r = await fetch(`${api.base}/api/widget/attachments?filename=${encodeURIComponent(file.name || "file")}`, {
      method: "POST",
      headers: { ...api.auth(), "content-type": file.type || "application/octet-stream" },
      body: file,
    });
    const data = await r.json().catch(() => ({}));
    return r.ok && typeof data.id === "string" ? { id: data.id } : { error: String(data.error ?? r.status) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** The attach button and its hidden file input; `pick` gets the chosen file. */
export function attachButton(t: Strings, pick: (f: File) => void): HTMLElement {
  const input = h("input", {
    type: "file",
    hidden: true,
    change: () => {
      const f = input.files?.[0];
      if (f) pick(f);
      input.value = "";
    },
  });
  return h("span", { class: "attach" }, input, h("button", { type: "button", "aria-label": t.attach, title: t.attach, click: () => input.click() }, "📎"));
}
