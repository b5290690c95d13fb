/** Log lines carry codes and correlation ids, never secrets (codes, tokens, cookie values). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
