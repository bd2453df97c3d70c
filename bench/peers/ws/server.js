// Minimal room-broadcast server on Node `ws` 8 — the "Node ws" peer of the
// Teahouse benchmarks (bench/README.md). Same semantics as Teahouse's push:
// a connection joins rooms; a message sent to a room is broadcast to every
// member connection, the sender included. Each broadcast is serialized once
// and the same string is written to every member, and the frame has the same
// JSON shape as Teahouse's `ServerFrame::Event`, so the load tool parses all
// targets alike. Nothing is persisted.
//
// Protocol (text frames, JSON):
//   connect  ws://HOST:PORT/ws?user=NAME       -> {"type":"hello","user":{...}}
//   {"type":"join","room":N}                   -> {"type":"joined","room":N}
//   {"type":"send","room":N,"client_id":S,"text":S}
//        -> to every member: {"type":"event","event":{room_id,seq,at_ms,actor,body}}
//   {"type":"ping"}                            -> {"type":"pong"}
// GET /healthz answers 200 once listening.
'use strict';

const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.env.PORT || process.argv[2] || 9001);
const host = process.env.HOST || '127.0.0.1';

/** room id -> { members: Set<WebSocket>, seq: number } */
const rooms = new Map();
let nextUserId = 1;

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return;
  }
  res.writeHead(404);
  res.end();
});

const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, clientTracking: false });

wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://x');
  const username = url.searchParams.get('user') || 'anon';
  const actor = { id: nextUserId++, username, nickname: username };
  const joined = new Set();
  ws.send(JSON.stringify({ type: 'hello', user: actor, heartbeat_secs: 25 }));

  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let msg;
    try {
      msg = JSON.parse(data.toString());
    } catch (_) {
      return;
    }
    if (msg.type === 'join') {
      const id = Number(msg.room);
      let room = rooms.get(id);
      if (!room) {
        room = { members: new Set(), seq: 0 };
        rooms.set(id, room);
      }
      room.members.add(ws);
      joined.add(id);
      ws.send(JSON.stringify({ type: 'joined', room: id }));
    } else if (msg.type === 'send') {
      const id = Number(msg.room);
      const room = rooms.get(id);
      if (!room || !room.members.has(ws)) return;
      room.seq += 1;
      const frame = JSON.stringify({
        type: 'event',
        event: {
          room_id: id,
          seq: room.seq,
          at_ms: Date.now(),
          actor,
          body: { kind: 'message', msgtype: 'text', text: String(msg.text), client_id: String(msg.client_id) },
        },
      });
      for (const member of room.members) {
        member.send(frame);
      }
    } else if (msg.type === 'ping') {
      ws.send('{"type":"pong"}');
    }
  });

  ws.on('close', () => {
    for (const id of joined) {
      const room = rooms.get(id);
      if (room) {
        room.members.delete(ws);
        if (room.members.size === 0) rooms.delete(id);
      }
    }
  });
  ws.on('error', () => {});
});

server.listen(port, host, () => {
  console.log(`ws peer listening on ${host}:${port}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => process.exit(0));
}
