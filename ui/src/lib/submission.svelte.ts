// One form submission's state: whether it is saving, and the core's message if it failed.
// Every form uses it, so each shows the error the same way and never saves twice at once.
export class Submission {
  saving = $state(false);
  error = $state("");

  /** Runs `action`; returns whether it succeeded, keeping the error message if not. */
  async run(action: () => Promise<unknown>): Promise<boolean> {
    if (this.saving) return false;
    this.saving = true;
    this.error = "";
    try {
      await action();
      return true;
    } catch (e) {
      this.error = (e as Error).message;
      return false;
    } finally {
      this.saving = false;
    }
  }
}
