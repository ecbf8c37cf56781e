/**
 * What every figure gets from the driver: the mode and a progress logger.
 * @module
 */
import type { Figure } from './results.js';

export interface BenchContext {
  /** Tiny sizes; never judged on timing. */
  smoke: boolean;
  /**
   * Whether the driver built the packages (`tsc -b`) before the figures, i.e. no `--no-build`: a
   * figure that needs more build output (the CLI's element bundle) builds it then too.
   */
  build: boolean;
  log(message: string): void;
}

/** What a figure module returns: its figure objects and, optionally, series for the plots. */
export interface FigureOutput {
  figures: Figure[];
  series?: Record<string, unknown>;
}
