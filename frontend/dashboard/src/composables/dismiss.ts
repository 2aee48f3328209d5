// Closes a popup on a click outside it or on Escape.
import { onBeforeUnmount, onMounted, type Ref } from "vue";

export function useDismiss(root: Ref<HTMLElement | null>, close: () => void): void {
  const onClick = (e: MouseEvent) => {
    if (root.value && !root.value.contains(e.target as Node)) close();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") close();
  };
  onMounted(() => {
    document.addEventListener("mousedown", onClick);
    document.addEventListener("keydown", onKey);
  });
  onBeforeUnmount(() => {
    document.removeEventListener("mousedown", onClick);
    document.removeEventListener("keydown", onKey);
  });
}
