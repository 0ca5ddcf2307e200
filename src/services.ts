// What commands may use beyond the cluster client. The composition root (main.ts) fills it in;
// tests fill in what they need. Optional members are features that may be switched off.
import type { Settings } from './config.ts';

export interface CommandServices {
  settings?: Settings;
  /** Set when no policy file is configured: help and start-up warn about it. */
  policyWarning?: string;
}
