// One form action at a time: `busy` while it runs (the button disables), its
// failure as one line in `error` next to the form, never a blank page.
import { ref, type Ref } from "vue";

export function useSubmit(error: Ref<string> = ref("")) {
  const busy = ref(false);
  async function run(action: () => Promise<unknown>): Promise<void> {
    error.value = "";
    busy.value = true;
    try {
      await action();
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, run };
}
