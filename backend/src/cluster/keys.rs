//! Redis key names of the cluster directory. All carry the hash tag `{duet}` (one Cluster slot,
//! see the module above); scripts get them through `KEYS` or build them from [`PREFIX`] (the
//! name records a script discovers while running, e.g. the holder of a shape).
//!
//! | key                          | type   | contents                                             |
//! |------------------------------|--------|------------------------------------------------------|
//! | `{duet}:nodes`               | set    | node ids that ever heartbeat and were not swept      |
//! | `{duet}:node:ID`             | string | the node's lease, `SET … PX ttl` by each heartbeat    |
//! | `{duet}:node:ID:names`       | set    | name keys the node holds                             |
//! | `{duet}:name:KEY`            | hash   | display, shape, node, conn, call (call id or absent) |
//! | `{duet}:shape:SHAPE`         | string | the name key holding that shape                      |
//! | `{duet}:call:ID`             | hash   | caller, callee (name keys), phase, deadline          |
//! | `{duet}:next_call`           | string | the last call id handed out (INCR)                   |
//! | `{duet}:rings`               | zset   | call ids still ringing, scored by deadline (ms)      |

use crate::address::NodeId;
use protocol::NameKey;

/// Every key starts with this.
pub(crate) const PREFIX: &str = "{duet}:";

pub(crate) fn nodes() -> String {
    format!("{PREFIX}nodes")
}

pub(crate) fn node_lease(node: NodeId) -> String {
    format!("{PREFIX}node:{node}")
}

pub(crate) fn node_names(node: NodeId) -> String {
    format!("{PREFIX}node:{node}:names")
}

pub(crate) fn name(key: &NameKey) -> String {
    format!("{PREFIX}name:{}", key.as_str())
}

pub(crate) fn shape(shape: &NameKey) -> String {
    format!("{PREFIX}shape:{}", shape.as_str())
}

pub(crate) fn next_call() -> String {
    format!("{PREFIX}next_call")
}

pub(crate) fn rings() -> String {
    format!("{PREFIX}rings")
}

/// Lua shared by the scripts of `leases.rs` and `calls.rs` (prepended to each): liveness of a
/// node, ending a call for the peer of a user, freeing a name record with its indexes.
///
/// `end_call(id, key)` deletes call `id` (and its ring deadline), clears the pointer of the
/// party other than `key` if it still points at this call, and returns
/// `{peer display, phase, peer node or false, peer conn or false}` (the peer's connection
/// only when its pointer was this call), or `false` when the call record is gone.
/// `free_name(key)` deletes the name record, its shape and its node-set entry, ends its call,
/// and returns `{display, node, conn, ended call or false}`, or `false` if there was none.
pub(crate) const LUA_HELPERS: &str = r#"
local P = '{duet}:'
local function live(node)
  return node and redis.call('EXISTS', P .. 'node:' .. node) == 1
end
local function end_call(id, key)
  local record = P .. 'call:' .. id
  local call = redis.call('HMGET', record, 'caller', 'callee', 'caller_display', 'callee_display', 'phase')
  redis.call('DEL', record)
  redis.call('ZREM', P .. 'rings', id)
  if not call[1] then return false end
  local peer, peer_display = call[1], call[3]
  if peer == key then peer, peer_display = call[2], call[4] end
  local peer_record = P .. 'name:' .. peer
  local held = redis.call('HMGET', peer_record, 'node', 'conn', 'call')
  if held[3] == id then
    redis.call('HDEL', peer_record, 'call')
    return {peer_display, call[5], held[1], held[2]}
  end
  return {peer_display, call[5], false, false}
end
local function free_name(key)
  local record = P .. 'name:' .. key
  local held = redis.call('HMGET', record, 'display', 'shape', 'node', 'conn', 'call')
  if not held[1] then return false end
  if redis.call('GET', P .. 'shape:' .. held[2]) == key then redis.call('DEL', P .. 'shape:' .. held[2]) end
  redis.call('SREM', P .. 'node:' .. held[3] .. ':names', key)
  redis.call('DEL', record)
  local ended = false
  if held[5] then ended = end_call(held[5], key) end
  return {held[1], held[3], held[4], ended}
end
"#;

/// A script made of [`LUA_HELPERS`] and `body`.
pub(crate) fn script(body: &str) -> redis::Script {
    redis::Script::new(&format!("{LUA_HELPERS}\n{body}"))
}
