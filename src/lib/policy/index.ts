/**
 * A room's policy, described once: every setting with its label, unit, range and why, its defaults,
 * and the check that the Room tab, the invitation and `airlock run` apply. Its own area because the
 * CLI needs it in Node, apart from the browser-only run in lib/runs.
 */
export { DEFAULT_POLICY, POLICY_FIELDS, policyProblems, type RunPolicy, type PolicyField } from './policy.ts';
