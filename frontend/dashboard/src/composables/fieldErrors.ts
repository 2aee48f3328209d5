// A form's one error from `useSubmit`, split: the server's reason shows next
// to the field it names, anything else once for the whole form.
import { computed, type Ref } from "vue";
import { fieldOf } from "../lib/fields";

export function useFieldErrors(error: Ref<string>, fields: readonly string[]) {
  const field = computed(() => (error.value ? fieldOf(error.value, fields) : null));
  return {
    /** The reason when it is about `name`, else "". */
    on: (name: string) => (field.value === name ? error.value : ""),
    /** The reason when it names none of the fields. */
    general: computed(() => (error.value && !field.value ? error.value : "")),
  };
}
