// What the signed-in member may do, from the core's role matrix (RegistryInfo.allowed). The UI
// only hides what a role may not do; the core is what refuses.
import type { Action } from "./bindings/Action";

let allowed = $state<Action[]>([]);

export const session = {
  set(actions: Action[]) {
    allowed = actions;
  },
  may(action: Action): boolean {
    return allowed.includes(action);
  },
};
