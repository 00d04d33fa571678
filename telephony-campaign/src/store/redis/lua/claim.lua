local P, owner, now = ARGV[1], ARGV[2], ARGV[3]
local function take(n, from)
  local r = P .. 'rec:' .. n
  local v = redis.call('HMGET', r, 'seq', 'attempts', 'in_flight')
  if from then release(P, from, n) end
  redis.call('HSET', r, 'status', 'claimed', 'owner', owner)
  hold(P, owner, n, v[1])
  return {n, redis.call('HGET', P .. 'contacts', n), v[2], v[3]}
end
local best, best_seq, best_owner
for _, o in ipairs(redis.call('SMEMBERS', P .. 'owners')) do
  -- Another owner's lapsed claims; never the caller's own (it is alive: it is asking).
  if o ~= owner and redis.call('EXISTS', 'telephony:owner:' .. o) == 0 then
    local first = redis.call('ZRANGE', P .. 'held:' .. o, 0, 0, 'WITHSCORES')
    if first[1] then
      local s = tonumber(first[2])
      if best_seq == nil or s < best_seq then
        best, best_seq, best_owner = first[1], s, o
      end
    else
      redis.call('SREM', P .. 'owners', o)
    end
  end
end
if best then return take(best, best_owner) end
local due = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, 1)
if not due[1] then return false end
local n = string.sub(due[1], 16)
redis.call('ZREM', P .. 'due', due[1])
redis.call('HINCRBY', P .. 'counts', waiting(redis.call('HGET', P .. 'rec:' .. n, 'attempts')), -1)
redis.call('HINCRBY', P .. 'counts', 'claimed', 1)
return take(n, nil)
