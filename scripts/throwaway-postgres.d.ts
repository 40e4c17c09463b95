export interface ThrowawayPostgres {
  url: string;
  display: string;
  restart(whileDown?: () => void | Promise<void>): Promise<void>;
  stop(): Promise<void>;
}
export function startThrowawayPostgres(): Promise<ThrowawayPostgres>;
