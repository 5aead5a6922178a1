import type { ClientToServerEvents, ServerToClientEvents } from "@heron/core";
import type { Server, Socket } from "socket.io";

import type { Principal } from "../services/auth";

export type SocketData = { principal: Principal };
export type HeronIo = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type HeronSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
