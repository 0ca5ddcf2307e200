// What the per-kind rule files share: the problem they report and the small checks several kinds use.

export type Path = (string | number)[];

export interface RuleProblem {
  text: string;
  path: Path;
  warning?: boolean;
}

/** A port as Istio reads it (a number, or a string of digits) in 1..65535. */
export const validPort = (p: unknown): boolean => {
  const n = typeof p === 'number' ? p : typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535;
};

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const isIp = (a: string): boolean => IPV4.test(a) || (a.includes(':') && /^[0-9a-fA-F:.]+$/.test(a));
