export interface ThrowawayPostgres {
  url: string;
  display: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}
export function startThrowawayPostgres(): Promise<ThrowawayPostgres>;
