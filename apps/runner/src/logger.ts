import { pino } from "pino";

export const createLogger = (svc: string) => pino({ level: process.env.LOG_LEVEL ?? "info", base: { svc } });
