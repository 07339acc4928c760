/** One step of a role's flow, for the Stepper. */
export interface Step {
  id: string;
  label: string;
  done: boolean;
  href: string;
}
