import type { z } from "zod";

import type {
  Ack,
  CheckpointChunkSchema,
  CheckpointCommitSchema,
  CheckpointLatestSchema,
  CheckpointReadSchema,
  ClaimSchema,
  JobLogsSchema,
  JobReportSchema,
  JobRewindSchema,
  LivePointsEvent,
  PROTOCOL_VERSION,
  RunConfigUpdateSchema,
  RunFinishSchema,
  RunInitAck,
  RunInitSchema,
  RunLogAck,
  RunLogSchema,
  RunnerDrainSchema,
  RunnerHeartbeatSchema,
  RunnerHelloSchema,
  RunStatusEvent,
  SourceCheckpointLatestSchema,
  SourceCheckpointReadSchema,
  SubscribeSchema,
} from "./events";
import type {
  CheckpointLatestAckSchema,
  CheckpointReadAckSchema,
  ClaimAckSchema,
  EmptyAckSchema,
  JobCancelPushSchema,
  Refusal,
  RewindAckSchema,
  RunnerHeartbeatAckSchema,
  RunnerHelloAckSchema,
} from "./runner-messages";

/**
 * socket.io event maps, one pair per peer. A payload's type is what its zod schema accepts
 * (`z.input`: defaults may be left out), so a client cannot send a shape the server refuses;
 * an ack's type is what the server answers. Every payload carries `v` = ProtocolVersion.
 */
export type ProtocolVersion = typeof PROTOCOL_VERSION;

/** an event the sender expects an answer to */
type Ask<S extends z.ZodType, A> = (payload: z.input<S>, ack: (answer: A) => void) => void;
/** an answer the runner checks against its schema (runner-messages.ts) before acting on it */
type Checked<S extends z.ZodType> = z.output<S> | Refusal;

/** the tracking SDK (a user's script, a job, `heron sync`) */
export type SdkToServer = {
  "run:init": Ask<typeof RunInitSchema, RunInitAck>;
  "run:log": Ask<typeof RunLogSchema, RunLogAck>;
  "run:finish": Ask<typeof RunFinishSchema, Ack<object>>;
  "run:config": Ask<typeof RunConfigUpdateSchema, Ack<object>>;
  /** sent without waiting for the answer */
  "run:heartbeat": (payload: z.input<typeof SubscribeSchema>, ack?: (answer: Ack<object>) => void) => void;
};
/** the SDK listens to nothing but its connection's own events */
export type ServerToSdk = Record<never, never>;

/** a runner daemon (runner token) */
export type RunnerToServer = {
  "runner:hello": Ask<typeof RunnerHelloSchema, Checked<typeof RunnerHelloAckSchema>>;
  "runner:claim": Ask<typeof ClaimSchema, Checked<typeof ClaimAckSchema>>;
  "runner:heartbeat": Ask<typeof RunnerHeartbeatSchema, Checked<typeof RunnerHeartbeatAckSchema>>;
  "runner:drain": Ask<typeof RunnerDrainSchema, Checked<typeof EmptyAckSchema>>;
  "job:report": Ask<typeof JobReportSchema, Checked<typeof EmptyAckSchema>>;
  "job:logs": Ask<typeof JobLogsSchema, Checked<typeof EmptyAckSchema>>;
  "job:rewind": Ask<typeof JobRewindSchema, Checked<typeof RewindAckSchema>>;
  "job:checkpoint:chunk": Ask<typeof CheckpointChunkSchema, Checked<typeof EmptyAckSchema>>;
  "job:checkpoint:commit": Ask<typeof CheckpointCommitSchema, Checked<typeof EmptyAckSchema>>;
  "job:checkpoint:latest": Ask<typeof CheckpointLatestSchema, Checked<typeof CheckpointLatestAckSchema>>;
  "job:checkpoint:read": Ask<typeof CheckpointReadSchema, Checked<typeof CheckpointReadAckSchema>>;
  "job:source-checkpoint:latest": Ask<typeof SourceCheckpointLatestSchema, Checked<typeof CheckpointLatestAckSchema>>;
  "job:source-checkpoint:read": Ask<typeof SourceCheckpointReadSchema, Checked<typeof CheckpointReadAckSchema>>;
};
export type ServerToRunner = {
  "work:available": () => void;
  "job:cancel": (push: z.input<typeof JobCancelPushSchema>) => void;
};

/** a dashboard page watching runs */
export type DashboardToServer = {
  subscribe: (payload: z.input<typeof SubscribeSchema>, ack?: (answer: Ack<object>) => void) => void;
  unsubscribe: (payload: z.input<typeof SubscribeSchema>) => void;
};
export type ServerToDashboard = {
  points: (e: LivePointsEvent) => void;
  "run:status": (e: RunStatusEvent) => void;
};

/**
 * What the server hears and says on its one namespace: a user key may both log runs and
 * watch them on one connection, so the server's socket speaks every peer's map.
 */
export type AnyPeerToServer = SdkToServer & DashboardToServer & RunnerToServer;
export type ServerToAnyPeer = ServerToSdk & ServerToDashboard & ServerToRunner;

/** the payload of event E of map M */
export type PayloadOf<M, E extends keyof M> = M[E] extends (payload: infer P, ...rest: never[]) => void ? P : never;
type ArgsOf<M, E extends keyof M> = M[E] extends (...args: infer A) => void ? A : never;
/** the answer to event E of map M (never for an event sent without one) */
export type AnswerOf<M, E extends keyof M> = ArgsOf<M, E> extends [unknown] ? never : ArgsOf<M, E> extends [unknown, ((answer: infer A) => void)?] ? A : never;
/** the answer's body when the server accepts: what a server handler returns */
export type AcceptedOf<M, E extends keyof M> = [AnswerOf<M, E>] extends [never] ? object : Omit<Extract<AnswerOf<M, E>, { ok: true }>, "ok">;
