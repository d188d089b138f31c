// Nothing typed is lost by navigating away: while a form holds unsaved input, leaving waits
// for the user to choose Discard (then the navigation happens) or Keep editing.
export class LeaveGuard {
  dirty = $state(false);
  pending = $state<(() => void) | null>(null);

  /** Runs `action` now, or once the user agrees to discard the unsaved input. */
  attempt(action: () => void) {
    if (this.dirty) this.pending = action;
    else action();
  }

  discard() {
    const action = this.pending;
    this.pending = null;
    this.dirty = false;
    action?.();
  }

  keep() {
    this.pending = null;
  }
}
