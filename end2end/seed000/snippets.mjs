// The browser snippets of seed 000 (../shared/seeds/000_748495b7ada16ee6.txt), verbatim,
// in the seed's order: Part2 private chat (join, speak), Part3 group chat (join, speak).
// run.mjs changes only their URL ("ws://127.0.0.1:8783").
export const snippets = {
  private_join_aksu: String.raw`var ws = new WebSocket("ws://127.0.0.1:8783");
ws.onopen = function(evt) {
let $_content = {
"event": "join",
"mode": 1,
"group_id": 0,
"from_user_id": "10086",
"from_username": "阿克苏",
"to_user_id": "10000",
"content": "加入会话",
};
ws.send(JSON.stringify($_content));
};
ws.onmessage = function(evt) {
console.log( "【阿克苏】接受消息: " + evt.data);
};`,
  private_join_lamu: String.raw`var ws = new WebSocket("ws://127.0.0.1:8783");
ws.onopen = function(evt) {
let $_content = {
"event": "join",
"mode": 1,
"group_id": 0,
"from_user_id": "10000",
"from_username": "拉姆才让",
"to_user_id": "10086",
"content": "加入会话"
};
ws.send(JSON.stringify($_content));
};
ws.onmessage = function(evt) {
console.log( "【拉姆才让】接受消息: " + evt.data);
};`,
  private_speak_aksu: String.raw`let $_content = {
"event": "speak",
"mode": 1,
"group_id": 0,
"from_user_id": "10086",
"from_username": "阿克苏",
"to_user_id": "10000",
"content": "Hi, 我是阿克苏",
};
ws.send(JSON.stringify($_content));
ws.onmessage = function(evt) {
console.log( "【阿克苏】接受消息: " + evt.data);
};`,
  private_speak_lamu: String.raw`let $_content = {
"event": "speak",
"mode": 1,
"group_id": 0,
"from_user_id": "10000",
"from_username": "拉姆才让",
"to_user_id": "10086",
"content": "Hi, 我是拉姆才让",
};
ws.send(JSON.stringify($_content));
ws.onmessage = function(evt) {
console.log( "【拉姆才让】接受消息: " + evt.data);
};`,
  group_join_aksu: String.raw`var ws = new WebSocket("ws://127.0.0.1:8783");
ws.onopen = function(evt) {
let $_content = {
"event": "join",
"mode": 2,
"group_id": 100,
"from_user_id": "10086",
"from_username": "阿克苏",
"to_user_id": "10000",
"content": "加入会话",
};
ws.send(JSON.stringify($_content));
};
ws.onmessage = function(evt) {
console.log( "【阿克苏】接受消息: " + evt.data);
};`,
  group_join_lamu: String.raw`var ws = new WebSocket("ws://127.0.0.1:8783");
ws.onopen = function(evt) {
let $_content = {
"event": "join",
"mode": 2,
"group_id": 100,
"from_user_id": "10000",
"from_username": "拉姆才让",
"to_user_id": "10086",
"content": "加入会话"
};
ws.send(JSON.stringify($_content));
};
ws.onmessage = function(evt) {
console.log( "【拉姆才让】接受消息: " + evt.data);
};`,
  group_join_wuchen: String.raw`var ws = new WebSocket("ws://127.0.0.1:8783");
ws.onopen = function(evt) {
let $_content = {
"event": "join",
"mode": 2,
"group_id": 100,
"from_user_id": "2023",
"from_username": "無尘",
"to_user_id": "10000",
"content": "加入会话",
};
ws.send(JSON.stringify($_content));
};
ws.onmessage = function(evt) {
console.log( "【無尘】接受消息: " + evt.data);
};`,
  group_speak_aksu: String.raw`let $_content = {
"event": "speak",
"mode": 2,
"group_id": 100,
"from_user_id": "10086",
"from_username": "阿克苏",
"to_user_id": "10000",
"content": "【群组消息】:我是阿克苏",
};
ws.send(JSON.stringify($_content));
ws.onmessage = function(evt) {
console.log( "【阿克苏】接受消息: " + evt.data);
};`,
  group_speak_lamu: String.raw`let $_content = {
"event": "speak",
"mode": 2,
"group_id": 100,
"from_user_id": "10000",
"from_username": "拉姆才让",
"to_user_id": "10086",
"content": "【群组消息】:拉姆才让",
};
ws.send(JSON.stringify($_content));
ws.onmessage = function(evt) {
console.log( "【拉姆才让】接受消息: " + evt.data);
};`,
};
