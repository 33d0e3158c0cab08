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
//! |                              |        | away (grace deadline, ms) and away_conn while held;  |
//! |                              |        | resuming, resuming_display, resuming_until: waiting  |
//! | `{duet}:waits:KEY`           | set    | name keys waiting for KEY to sign in naming them     |
//! | `{duet}:shape:SHAPE`         | string | the name key holding that shape                      |
//! | `{duet}:call:ID`             | hash   | caller, callee (name keys), phase, deadline          |
//! | `{duet}:next_call`           | string | the last call id handed out (INCR)                   |
//! | `{duet}:rings`               | zset   | call ids still ringing, scored by deadline (ms)      |
//! | `{duet}:graces`              | zset   | name keys away or waiting, scored by deadline (ms)   |
//! | `{duet}:online`              | zset   | `DISPLAY\0KEY` of every name record, score 0 (so in  |
//! |                              |        | display order): the online list, O(result)           |
//! | `{duet}:connected`           | set    | ids of the calls in phase `connected` (a metric)     |

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

pub(crate) fn graces() -> String {
    format!("{PREFIX}graces")
}

pub(crate) fn rings() -> String {
    format!("{PREFIX}rings")
}

pub(crate) fn online() -> String {
    format!("{PREFIX}online")
}

pub(crate) fn connected() -> String {
    format!("{PREFIX}connected")
}

/// Lua shared by the scripts of `leases.rs` and `calls.rs` (prepended to each): liveness of a
/// node, ending a call for the peer of a user, freeing a name record with its indexes.
///
/// `end_call(id, key)` deletes call `id` (and its ring deadline), clears the pointer of the
/// party other than `key` if it still points at this call, and returns
/// `{peer display, phase, peer node or false, peer conn or false, peer name freed}` (the peer's
/// connection only when its pointer was this call and it is connected; a peer *away*, its call
/// held, loses its name too, as nothing is left to hold), or `false` when the call record is gone.
/// `free_name(key)` deletes the name record, its shape, its node-set and online-list entries, ends its call,
/// and returns `{display, node, conn, ended call or false}`, or `false` if there was none.
///
/// Held calls (issue 10): `resume(key, display, awaited, awaited display, grace)` pairs `key`
/// with `awaited` if that one waits for it (`{'paired', display, node, conn}`), else makes `key`
/// wait for it (`resuming*` fields, the grace deadline, `{duet}:waits:AWAITED`; `{'waiting',
/// display}`); `end_waits(key)` ends every wait for `key` (`{{display, node, conn}, …}`).
pub(crate) const LUA_HELPERS: &str = r#"
local P = '{duet}:'
local function live(node)
  return node and redis.call('EXISTS', P .. 'node:' .. node) == 1
end
local free_name
local function end_call(id, key)
  local record = P .. 'call:' .. id
  local call = redis.call('HMGET', record, 'caller', 'callee', 'caller_display', 'callee_display', 'phase')
  redis.call('DEL', record)
  redis.call('ZREM', P .. 'rings', id)
  redis.call('SREM', P .. 'connected', id)
  if not call[1] then return false end
  local peer, peer_display = call[1], call[3]
  if peer == key then peer, peer_display = call[2], call[4] end
  local peer_record = P .. 'name:' .. peer
  local held = redis.call('HMGET', peer_record, 'node', 'conn', 'call', 'away')
  if held[3] == id then
    redis.call('HDEL', peer_record, 'call')
    if held[4] then
      free_name(peer)
      return {peer_display, call[5], false, false, 1}
    end
    return {peer_display, call[5], held[1], held[2], false}
  end
  return {peer_display, call[5], false, false, false}
end
free_name = function(key)
  local record = P .. 'name:' .. key
  local held = redis.call('HMGET', record, 'display', 'shape', 'node', 'conn', 'call', 'away_conn', 'resuming',
    'resuming_display')
  if not held[1] then return false end
  if held[7] then redis.call('SREM', P .. 'waits:' .. held[7], key) end
  if redis.call('GET', P .. 'shape:' .. held[2]) == key then redis.call('DEL', P .. 'shape:' .. held[2]) end
  redis.call('SREM', P .. 'node:' .. held[3] .. ':names', key)
  redis.call('ZREM', P .. 'graces', key)
  redis.call('ZREM', P .. 'online', held[1] .. '\0' .. key)
  redis.call('DEL', record)
  local ended = false
  if held[5] then ended = end_call(held[5], key) end
  if held[7] then ended = {held[8], 'resuming', false, false, false} end
  return {held[1], held[3], held[4] or held[6], ended}
end
local function stop_waiting(key, awaited)
  redis.call('HDEL', P .. 'name:' .. key, 'resuming', 'resuming_display', 'resuming_until')
  redis.call('ZREM', P .. 'graces', key)
  redis.call('SREM', P .. 'waits:' .. awaited, key)
end
local function resume(key, display, awaited, awaited_display, grace)
  local peer_record = P .. 'name:' .. awaited
  local other = redis.call('HMGET', peer_record, 'display', 'node', 'conn', 'resuming')
  if other[4] == key then
    stop_waiting(awaited, key)
    local id = tostring(redis.call('INCR', P .. 'next_call'))
    redis.call('HSET', P .. 'call:' .. id, 'caller', awaited, 'callee', key, 'caller_display', other[1],
      'callee_display', display, 'phase', 'connected')
    redis.call('SADD', P .. 'connected', id)
    redis.call('HSET', peer_record, 'call', id)
    redis.call('HSET', P .. 'name:' .. key, 'call', id)
    return {'paired', other[1], other[2], other[3]}
  end
  local peer_display = other[1] or awaited_display
  redis.call('HSET', P .. 'name:' .. key, 'resuming', awaited, 'resuming_display', peer_display, 'resuming_until', grace)
  redis.call('ZADD', P .. 'graces', grace, key)
  redis.call('SADD', P .. 'waits:' .. awaited, key)
  return {'waiting', peer_display}
end
local function end_waits(key)
  local ended = {}
  for _, waiter in ipairs(redis.call('SMEMBERS', P .. 'waits:' .. key)) do
    local w = redis.call('HMGET', P .. 'name:' .. waiter, 'display', 'node', 'conn', 'resuming')
    if w[4] == key then
      stop_waiting(waiter, key)
      table.insert(ended, {w[1], w[2], w[3]})
    end
  end
  redis.call('DEL', P .. 'waits:' .. key)
  return ended
end
"#;

/// A script made of [`LUA_HELPERS`] and `body`.
pub(crate) fn script(body: &str) -> redis::Script {
    redis::Script::new(&format!("{LUA_HELPERS}\n{body}"))
}
