/**
 * The membership attack of the owner's audit (docs/DISCLOSURE.md), measured on the owner's own data:
 * rows the notebook never saw (held back by the room's policy) and as many rows it trained on are
 * scored through the bundle's inference entry point, and an attacker who sees only those scores and
 * the true labels tries to tell members from non-members:
 *
 * - the **loss attack** (Yeom et al. 2018, "Privacy risk in machine learning: analyzing the
 *   connection to overfitting"): a row is a member the more confident the model is in its true
 *   label;
 * - the **confidence attack**: the more confident the model is at all, label or not.
 *
 * Reported as SACRO-ML and LiRA (Carlini et al. 2022) report attacks: the AUC of telling the two
 * apart (0.5 is chance), its one-sided p-value against chance (Mann–Whitney, normal approximation),
 * and the true-positive rate at a 1 % false-positive rate. The worse of the two attacks counts.
 */
import type { GateCheck } from './check.ts';

export interface MembershipScores {
  /** Probability of the positive label, per audited row. */
  scores: number[];
  /** The row's true label. */
  labels: Array<0 | 1>;
  /** The row was among the rows the notebook saw. */
  member: boolean[];
}

export interface MembershipResult {
  auc: number;
  attack: 'loss' | 'confidence';
  pValue: number;
  /** True-positive rate at a false-positive rate of at most 1 %. */
  tprAt1Fpr: number;
  members: number;
  heldOut: number;
  /** The model's own AUC on the label, on the rows it saw and on the rows it never saw. */
  labelAucMembers: number;
  labelAucHeldOut: number;
}

/** Area under the ROC curve of `score` separating positives from negatives, ties counted half (ranks). */
export function rocAuc(score: number[], positive: boolean[]): number {
  const idx = score.map((_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j < idx.length && score[idx[j]!] === score[idx[i]!]) j++;
    const rank = (i + 1 + j) / 2; // average rank of the tied run
    for (let q = i; q < j; q++)
      if (positive[idx[q]!]) {
        rankSum += rank;
        pos++;
      }
    i = j;
  }
  const neg = idx.length - pos;
  if (!pos || !neg) return 0.5;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** The highest true-positive rate at a false-positive rate of at most `fpr` (thresholds between distinct scores). */
export function tprAtFpr(score: number[], positive: boolean[], fpr: number): number {
  const idx = score.map((_, i) => i).sort((a, b) => score[b]! - score[a]!);
  const pos = positive.filter(Boolean).length;
  const neg = positive.length - pos;
  if (!pos || !neg) return 0;
  let tp = 0;
  let fp = 0;
  let best = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j < idx.length && score[idx[j]!] === score[idx[i]!]) j++;
    for (let q = i; q < j; q++)
      if (positive[idx[q]!]) tp++;
      else fp++;
    if (fp / neg <= fpr) best = Math.max(best, tp / pos);
    else break;
    i = j;
  }
  return best;
}

/** Φ, the standard normal distribution function (Abramowitz & Stegun 7.1.26 erf, error < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** One-sided p-value of an AUC above chance, n1 and n2 samples (Mann–Whitney U under H0). */
export function aucPValue(auc: number, n1: number, n2: number): number {
  if (!n1 || !n2) return 1;
  const sd = Math.sqrt((n1 + n2 + 1) / (12 * n1 * n2));
  return 1 - normalCdf((auc - 0.5) / sd);
}

/** Both attacks on the audit's scores; the one that tells members apart better is reported. */
export function membershipAttack(input: MembershipScores): MembershipResult {
  const { scores, labels, member } = input;
  const eps = 1e-12;
  const clip = (p: number) => Math.min(1 - eps, Math.max(eps, p));
  // The model's confidence in the true label: members get more of it from a model that memorised them.
  const loss = scores.map((p, i) => (labels[i] ? clip(p) : 1 - clip(p)));
  const confidence = scores.map((p) => Math.max(clip(p), 1 - clip(p)));
  const aLoss = rocAuc(loss, member);
  const aConf = rocAuc(confidence, member);
  const attack = aConf > aLoss ? 'confidence' : 'loss';
  const s = attack === 'loss' ? loss : confidence;
  const members = member.filter(Boolean).length;
  const heldOut = member.length - members;
  const pick = (m: boolean) => member.map((x, i) => (x === m ? i : -1)).filter((i) => i >= 0);
  const labelAuc = (rows: number[]) =>
    rocAuc(
      rows.map((i) => scores[i]!),
      rows.map((i) => labels[i] === 1),
    );
  const auc = Math.max(aLoss, aConf);
  return {
    auc,
    attack,
    pValue: aucPValue(auc, members, heldOut),
    tprAt1Fpr: tprAtFpr(s, member, 0.01),
    members,
    heldOut,
    labelAucMembers: labelAuc(pick(true)),
    labelAucHeldOut: labelAuc(pick(false)),
  };
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * The gate's row for the membership audit.
 * @param outcome the attack's result, why it could not be measured (a failed check: what cannot be
 *   measured blocks, as an unreadable output does), or why it does not apply
 */
export function membershipCheck(
  outcome:
    { result: MembershipResult; ms: number } | { error: string } | { notApplicable: string; suggestion?: string },
  maxAuc: number,
): GateCheck {
  const base = { id: 'membership', title: 'Membership inference', threshold: `attack AUC ≤ ${maxAuc}` } as const;
  if ('notApplicable' in outcome)
    return {
      ...base,
      verdict: 'not-applicable',
      measured: 'not measured',
      reason: outcome.notApplicable,
      ...(outcome.suggestion ? { suggestion: outcome.suggestion } : {}),
    };
  if ('error' in outcome)
    return {
      ...base,
      verdict: 'failed',
      measured: 'could not be measured',
      reason: `the audit could not score the held-back rows: ${outcome.error}`,
      suggestion:
        'look at the error; if the time ran out, raise the time limit; export only if you have another reason to trust the model',
    };
  const r = outcome.result;
  // Chance can push a small audit above the threshold: a failure must also be unlikely under chance.
  const failed = r.auc > maxAuc && r.pValue < 0.05;
  return {
    ...base,
    verdict: failed ? 'failed' : 'passed',
    measured: `AUC ${r.auc.toFixed(3)} (${r.attack} attack, p = ${r.pValue < 0.001 ? '<0.001' : r.pValue.toFixed(3)}), ${pct(r.tprAt1Fpr)} of members found at 1% false positives; ${r.heldOut} held-back rows against ${r.members} training rows`,
    reason: failed
      ? 'the model answers noticeably differently about people it was trained on, so its answers reveal who was in your data — a sign it memorised rows'
      : 'the model answers about people it was trained on much as about people it never saw, so its answers do not reveal who was in your data',
    ...(failed
      ? {
          suggestion:
            'ask the expert for a simpler or more regularised model (fewer parameters, a stronger penalty, early stopping, larger leaves)',
        }
      : {}),
    figures: {
      auc: r3(r.auc),
      attack: r.attack,
      pValue: Number(r.pValue.toPrecision(3)),
      tprAt1Fpr: r3(r.tprAt1Fpr),
      members: r.members,
      heldOut: r.heldOut,
      labelAucMembers: r3(r.labelAucMembers),
      labelAucHeldOut: r3(r.labelAucHeldOut),
      ms: Math.round(outcome.ms),
    },
  };
}
