// Minimal room-broadcast server on Socket.IO 4 — the "Socket.IO" peer of the
// Teahouse benchmarks (bench/README.md). Same semantics as Teahouse's push:
// a socket joins rooms (Socket.IO's own rooms); a message sent to a room is
// broadcast to every member, the sender included (`io.to(room).emit`, which
// encodes the packet once per broadcast). The event payload has the same
// JSON shape as Teahouse's `RoomEvent`. Nothing is persisted.
//
// Protocol (Socket.IO v5 over Engine.IO v4, WebSocket transport only):
//   connect  ws://HOST:PORT/socket.io/?EIO=4&transport=websocket&user=NAME
//   emit "join" N                       -> emit "joined" N
//   emit "send" {room,client_id,text}   -> to the room: emit "event" {room_id,seq,at_ms,actor,body}
// GET /healthz answers 200 once listening.
'use strict';

const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.env.PORT || process.argv[2] || 9002);
const host = process.env.HOST || '127.0.0.1';

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  }
  // Everything else is left to Socket.IO's own request handler.
});

const io = new Server(server, {
  serveClient: false,
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 1e6,
});

/** room id -> last seq */
const seqs = new Map();
let nextUserId = 1;

io.on('connection', (socket) => {
  const username = String(socket.handshake.query.user || 'anon');
  const actor = { id: nextUserId++, username, nickname: username };

  socket.on('join', (room) => {
    const id = Number(room);
    socket.join(String(id));
    socket.emit('joined', id);
  });

  socket.on('send', (msg) => {
    if (!msg || typeof msg !== 'object') return;
    const id = Number(msg.room);
    if (!socket.rooms.has(String(id))) return;
    const seq = (seqs.get(id) || 0) + 1;
    seqs.set(id, seq);
    io.to(String(id)).emit('event', {
      room_id: id,
      seq,
      at_ms: Date.now(),
      actor,
      body: { kind: 'message', msgtype: 'text', text: String(msg.text), client_id: String(msg.client_id) },
    });
  });
});

server.listen(port, host, () => {
  console.log(`socket.io peer listening on ${host}:${port}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => process.exit(0));
}
