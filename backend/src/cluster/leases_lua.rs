//! The Lua scripts of `leases.rs` (each runs after `keys::LUA_HELPERS`): claim (plain, takeover
//! with the held-call rules of `MemoryDirectory`, reclaim), release or hold, and the sweep of a
//! dead node's names.

/// KEYS: name record, shape, this node's names, this node's lease. ARGV: key, shape, display,
/// node, conn, mode (`claim`, `takeover`, `reclaim`), the key and display form of the peer a
/// takeover says it is in a call with ('' for none), the grace deadline of a wait (unix ms).
pub(super) const CLAIM: &str = r#"
if redis.call('EXISTS', KEYS[4]) == 0 then return {'lapsed'} end
local key, shape, display, node, conn, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local awaited, awaited_display, grace = ARGV[7], ARGV[8], ARGV[9]
local held = redis.call('HMGET', KEYS[1], 'display', 'node', 'conn', 'call', 'resuming', 'resuming_display')
if held[1] and mode == 'reclaim' and held[2] == node and held[3] == conn then
  redis.call('SADD', KEYS[3], key)
  return {'won'}
end
if held[1] and mode == 'takeover' then
  local previous_conn = held[3]
  if redis.call('HEXISTS', KEYS[1], 'away') == 1 then
    redis.call('HDEL', KEYS[1], 'away', 'away_conn')
    redis.call('ZREM', P .. 'graces', key)
    previous_conn = false
  end
  redis.call('SREM', P .. 'node:' .. held[2] .. ':names', key)
  redis.call('HSET', KEYS[1], 'node', node, 'conn', conn)
  redis.call('SADD', KEYS[3], key)
  local ended, resumed, kept = false, false, false
  if held[4] then
    local call = redis.call('HMGET', P .. 'call:' .. held[4], 'caller', 'callee', 'caller_display', 'callee_display', 'phase')
    local peer, peer_display = call[1], call[3]
    if peer == key then peer, peer_display = call[2], call[4] end
    if awaited ~= '' and peer == awaited and call[5] == 'connected' then
      kept = true
      local other = redis.call('HMGET', P .. 'name:' .. peer, 'node', 'conn', 'away')
      if other[3] then resumed = {'peer_away', peer_display}
      else resumed = {'restored', peer_display, other[1], other[2]} end
    else
      redis.call('HDEL', KEYS[1], 'call')
      ended = end_call(held[4], key)
    end
  elseif held[5] then
    if held[5] == awaited then
      kept = true
      resumed = {'waiting', held[6]}
    else
      stop_waiting(key, held[5])
      ended = {held[6], 'resuming', false, false, false}
    end
  end
  if not kept and awaited ~= '' then resumed = resume(key, held[1], awaited, awaited_display, grace) end
  return {'replaced', held[1], held[2], previous_conn, ended, resumed, end_waits(key)}
end
if held[1] and live(held[2]) then return {'taken', held[1]} end
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= key then
  local other = redis.call('HMGET', P .. 'name:' .. owner, 'display', 'node')
  if other[1] and live(other[2]) then return {'taken', other[1]} end
end
local stale_name, stale_shape = false, false
if held[1] then stale_name = free_name(key) end
if owner and owner ~= key then stale_shape = free_name(owner) end
redis.call('HSET', KEYS[1], 'display', display, 'shape', shape, 'node', node, 'conn', conn)
redis.call('ZADD', P .. 'online', 0, display .. '\0' .. key)
redis.call('SET', KEYS[2], key)
redis.call('SADD', KEYS[3], key)
local resumed = false
if mode == 'takeover' and awaited ~= '' then resumed = resume(key, display, awaited, awaited_display, grace) end
return {'won', stale_name, stale_shape, resumed, end_waits(key)}
"#;

/// ARGV[4]: the grace deadline (unix ms) of a hold, '' for none. A user in a connected call
/// is then kept away (connection moved to `away_conn`, deadline in `away` and the graces).
pub(super) const RELEASE: &str = r#"
local held = redis.call('HMGET', KEYS[1], 'node', 'conn', 'call')
if held[1] ~= ARGV[2] or held[2] ~= ARGV[3] then return {0} end
if ARGV[4] ~= '' and held[3] and redis.call('HGET', P .. 'call:' .. held[3], 'phase') == 'connected' then
  redis.call('HSET', KEYS[1], 'away', ARGV[4], 'away_conn', held[2])
  redis.call('HDEL', KEYS[1], 'conn')
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  return {2}
end
local freed = free_name(ARGV[1])
return {1, freed[4]}
"#;

pub(super) const DEAD_NODES: &str = r#"
local dead = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not live(node) then table.insert(dead, node) end
end
return dead
"#;

pub(super) const SWEEP: &str = r#"
if redis.call('EXISTS', KEYS[3]) == 1 then return {} end
local freed = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('HGET', P .. 'name:' .. key, 'node') == ARGV[1] then table.insert(freed, free_name(key)) end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[1], ARGV[1])
return freed
"#;
