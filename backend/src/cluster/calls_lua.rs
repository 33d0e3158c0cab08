//! The Lua scripts of `calls.rs` (each runs after `keys::LUA_HELPERS`). Every script first
//! checks that the acting user's name record is held by the acting connection (`no_call`
//! otherwise), as `MemoryDirectory::held` does, so a connection replaced by a resume login
//! cannot act on the name any more.

/// KEYS: caller record, target record, next call id, rings.
/// ARGV: caller key, target key, node, conn, deadline (unix ms).
pub(super) const START: &str = r#"
local me = redis.call('HMGET', KEYS[1], 'node', 'conn', 'call', 'display', 'resuming', 'resuming_display')
if me[1] ~= ARGV[3] or me[2] ~= ARGV[4] then return {'no_call'} end
if me[5] then
  if me[5] == ARGV[2] then return {'unavailable', me[6]} end
  return {'already', me[6]}
end
if me[3] then
  local call = redis.call('HMGET', P .. 'call:' .. me[3], 'caller', 'callee', 'caller_display', 'callee_display', 'phase')
  local calling = call[1] == ARGV[1]
  local peer, peer_display = call[1], call[3]
  if calling then peer, peer_display = call[2], call[4] end
  if peer == ARGV[2] and (calling or call[5] == 'connected') then
    local target = redis.call('HMGET', KEYS[2], 'node', 'conn', 'away')
    if not target[1] then return {'not_found'} end
    if target[3] then return {'unavailable', peer_display} end
    return {'renegotiation', peer_display, target[1], target[2]}
  end
  return {'already', peer_display}
end
local target = redis.call('HMGET', KEYS[2], 'display', 'node', 'conn', 'call', 'resuming')
if not target[1] or not live(target[2]) then return {'not_found'} end
if target[4] or target[5] then return {'busy', target[1]} end
local id = tostring(redis.call('INCR', KEYS[3]))
redis.call('HSET', P .. 'call:' .. id, 'caller', ARGV[1], 'callee', ARGV[2], 'caller_display', me[4],
  'callee_display', target[1], 'phase', 'ringing', 'deadline', ARGV[5])
redis.call('HSET', KEYS[1], 'call', id)
redis.call('HSET', KEYS[2], 'call', id)
redis.call('ZADD', KEYS[4], ARGV[5], id)
return {'new', id, target[1], target[2], target[3]}
"#;

/// KEYS: callee record, rings. ARGV: callee key, target key, node, conn.
pub(super) const ANSWER: &str = r#"
local me = redis.call('HMGET', KEYS[1], 'node', 'conn', 'call', 'resuming', 'resuming_display')
if me[1] ~= ARGV[3] or me[2] ~= ARGV[4] then return {'no_call'} end
if me[4] == ARGV[2] then return {'unavailable', me[5]} end
if not me[3] then return {'not_in_call'} end
local record = P .. 'call:' .. me[3]
local call = redis.call('HMGET', record, 'caller', 'callee', 'caller_display', 'callee_display', 'phase')
if call[5] == 'ringing' and call[2] == ARGV[1] and call[1] == ARGV[2] then
  local caller = redis.call('HMGET', P .. 'name:' .. call[1], 'node', 'conn', 'call')
  if caller[3] ~= me[3] then return {'not_in_call'} end
  redis.call('HSET', record, 'phase', 'connected')
  redis.call('SADD', P .. 'connected', me[3])
  redis.call('ZREM', KEYS[2], me[3])
  return {'connected', me[3], call[3], caller[1], caller[2]}
end
if call[5] == 'connected' then
  local peer, peer_display = call[1], call[3]
  if peer == ARGV[1] then peer, peer_display = call[2], call[4] end
  if peer == ARGV[2] then
    local other = redis.call('HMGET', P .. 'name:' .. peer, 'node', 'conn', 'away')
    if not other[1] then return {'not_in_call'} end
    if other[3] then return {'unavailable', peer_display} end
    return {'renegotiation', peer_display, other[1], other[2]}
  end
end
return {'not_in_call'}
"#;

/// KEYS: user record. ARGV: user key, node, conn, '1' if a peer is expected, its key ('' for
/// a target that is no one's key).
pub(super) const END: &str = r#"
local me = redis.call('HMGET', KEYS[1], 'node', 'conn', 'call', 'resuming', 'resuming_display')
if me[1] ~= ARGV[2] or me[2] ~= ARGV[3] then return {'no_call'} end
if ARGV[4] == '1' then
  local peer = me[4] or ''
  if me[3] then
    local call = redis.call('HMGET', P .. 'call:' .. me[3], 'caller', 'callee')
    peer = call[1]
    if peer == ARGV[1] then peer = call[2] end
  end
  if peer ~= ARGV[5] then return {'not_in_call'} end
end
if me[4] then
  stop_waiting(ARGV[1], me[4])
  return {'ended', me[5], 'resuming', false, false, false}
end
if not me[3] then return {'no_call'} end
redis.call('HDEL', KEYS[1], 'call')
local ended = end_call(me[3], ARGV[1])
if not ended then return {'no_call'} end
return {'ended', ended[1], ended[2], ended[3], ended[4], ended[5]}
"#;

/// KEYS: sender record. ARGV: sender key, node, conn, target key.
pub(super) const RELAY: &str = r#"
local me = redis.call('HMGET', KEYS[1], 'node', 'conn', 'call', 'resuming', 'resuming_display')
if me[1] ~= ARGV[2] or me[2] ~= ARGV[3] then return false end
if me[4] == ARGV[4] then return {'unavailable', me[5]} end
if not me[3] then return false end
local call = redis.call('HMGET', P .. 'call:' .. me[3], 'caller', 'callee')
local peer = call[1]
if peer == ARGV[1] then peer = call[2] end
if peer ~= ARGV[4] then return false end
local other = redis.call('HMGET', P .. 'name:' .. peer, 'node', 'conn', 'call', 'display', 'away')
if other[3] ~= me[3] then return false end
if other[5] then return {'unavailable', other[4]} end
return {other[1], other[2]}
"#;

/// KEYS: graces. ARGV: now (unix ms). Frees each name away past its grace deadline (its call
/// ended, an away peer freed too): `{'away', display, ended call or false}`; ends each wait past
/// it: `{'wait', display, node, conn, awaited display}`.
pub(super) const EXPIRE_GRACES: &str = r#"
local expired = {}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[1], key)
  local me = redis.call('HMGET', P .. 'name:' .. key, 'away', 'resuming', 'display', 'node', 'conn', 'resuming_display')
  if me[1] then
    local freed = free_name(key)
    table.insert(expired, {'away', freed[1], freed[4]})
  elseif me[2] then
    stop_waiting(key, me[2])
    table.insert(expired, {'wait', me[3], me[4], me[5], me[6]})
  end
end
return expired
"#;

/// KEYS: rings. ARGV: now (unix ms). Returns, earliest first, for each call that rang out:
/// {id, caller display, caller node, caller conn, callee display, callee node, callee conn}.
pub(super) const EXPIRE: &str = r#"
local expired = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[1], id)
  local call = redis.call('HMGET', P .. 'call:' .. id, 'caller', 'caller_display', 'phase')
  if call[3] == 'ringing' then
    local caller_record = P .. 'name:' .. call[1]
    local caller = redis.call('HMGET', caller_record, 'node', 'conn', 'call')
    if caller[3] == id then
      redis.call('HDEL', caller_record, 'call')
      local ended = end_call(id, call[1])
      table.insert(expired, {id, call[2], caller[1], caller[2], ended[1], ended[3], ended[4]})
    end
  end
end
return expired
"#;

/// No KEYS (reads every directory key: for tests). Returns '' or what is inconsistent.
pub(super) const CHECK: &str = r#"
for _, record in ipairs(redis.call('KEYS', P .. 'name:*')) do
  local key = string.sub(record, string.len(P .. 'name:') + 1)
  local me = redis.call('HMGET', record, 'display', 'shape', 'node', 'call', 'away', 'conn', 'resuming', 'resuming_until')
  local grace = redis.call('ZSCORE', P .. 'graces', key)
  if me[7] then
    if me[4] or me[5] then return me[1] .. ' waits while in a call' end
    if not grace or tonumber(grace) ~= tonumber(me[8]) then return me[1] .. ' waits without its grace deadline' end
    if redis.call('SISMEMBER', P .. 'waits:' .. me[7], key) == 0 then return me[1] .. ' waits unlisted' end
  elseif me[5] then
    if me[6] then return me[1] .. ' is away with a connection' end
    if not grace or tonumber(grace) ~= tonumber(me[5]) then return me[1] .. ' is away without its grace deadline' end
    if not me[4] or redis.call('HGET', P .. 'call:' .. me[4], 'phase') ~= 'connected' then
      return me[1] .. ' is away outside a connected call'
    end
  elseif grace then return me[1] .. ' has a grace deadline but is not away' end
  if redis.call('GET', P .. 'shape:' .. me[2]) ~= key then return me[1] .. ' does not hold its shape' end
  if not redis.call('ZSCORE', P .. 'online', me[1] .. '\0' .. key) then return me[1] .. ' not in the online list' end
  if redis.call('SISMEMBER', P .. 'node:' .. me[3] .. ':names', key) == 0 then return me[1] .. ' not in its node set' end
  if me[4] then
    local call = redis.call('HMGET', P .. 'call:' .. me[4], 'caller', 'callee', 'phase')
    if call[1] ~= key and call[2] ~= key then return me[1] .. ' points at a call it is not in' end
    local peer = call[1]
    if peer == key then peer = call[2] end
    if redis.call('HGET', P .. 'name:' .. peer, 'call') ~= me[4] then return me[1] .. ' is not named back' end
    local ringing = redis.call('ZSCORE', P .. 'rings', me[4]) ~= false
    if ringing ~= (call[3] == 'ringing') then return me[1] .. ': ring index disagrees with the phase' end
    local connected = redis.call('SISMEMBER', P .. 'connected', me[4]) == 1
    if connected ~= (call[3] == 'connected') then return me[1] .. ': connected set disagrees with the phase' end
  end
end
for _, waits in ipairs(redis.call('KEYS', P .. 'waits:*')) do
  local awaited = string.sub(waits, string.len(P .. 'waits:') + 1)
  for _, waiter in ipairs(redis.call('SMEMBERS', waits)) do
    if redis.call('HGET', P .. 'name:' .. waiter, 'resuming') ~= awaited then
      return waiter .. ' is listed as waiting for ' .. awaited .. ' but does not'
    end
  end
end
for _, key in ipairs(redis.call('ZRANGE', P .. 'graces', 0, -1)) do
  if redis.call('EXISTS', P .. 'name:' .. key) == 0 then return 'grace deadline of ' .. key .. ', who is not online' end
end
for _, id in ipairs(redis.call('ZRANGE', P .. 'rings', 0, -1)) do
  if redis.call('HGET', P .. 'call:' .. id, 'phase') ~= 'ringing' then return 'call ' .. id .. ' rings without ringing' end
end
for _, id in ipairs(redis.call('SMEMBERS', P .. 'connected')) do
  if redis.call('HGET', P .. 'call:' .. id, 'phase') ~= 'connected' then return 'call ' .. id .. ' listed as connected' end
end
for _, entry in ipairs(redis.call('ZRANGE', P .. 'online', 0, -1)) do
  local display, key = string.match(entry, '^(.*)%z(.*)$')
  if not key or redis.call('HGET', P .. 'name:' .. key, 'display') ~= display then
    return 'online list entry ' .. entry .. ' without its name record'
  end
end
return ''
"#;
