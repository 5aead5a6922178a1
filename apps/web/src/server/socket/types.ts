import type { AnyPeerToServer, ServerToAnyPeer } from "@heron/core";
import type { Server, Socket } from "socket.io";

import type { Principal } from "../services/auth";

export type SocketData = { principal: Principal };
export type HeronIo = Server<AnyPeerToServer, ServerToAnyPeer, Record<string, never>, SocketData>;
export type HeronSocket = Socket<AnyPeerToServer, ServerToAnyPeer, Record<string, never>, SocketData>;
