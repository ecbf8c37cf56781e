/**
 * What every figure gets from the driver: the mode and a progress logger.
 * @module
 */
import type { Figure } from './results.js';

export interface BenchContext {
  /** Tiny sizes; never judged on timing. */
  smoke: boolean;
  log(message: string): void;
}

/** What a figure module returns: its figure objects and, optionally, series for the plots. */
export interface FigureOutput {
  figures: Figure[];
  series?: Record<string, unknown>;
}
