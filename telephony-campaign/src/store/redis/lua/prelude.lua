local function due_member(seq, n)
  return string.format('%015d', tonumber(seq)) .. n
end
local function waiting(attempts)
  if tonumber(attempts) > 0 then return 'retrying' end
  return 'pending'
end
local function hold(P, owner, n, seq)
  redis.call('ZADD', P .. 'held:' .. owner, seq, n)
  redis.call('SADD', P .. 'owners', owner)
  redis.call('SADD', 'telephony:owner-campaigns:' .. owner, P)
end
local function release(P, owner, n)
  local h = P .. 'held:' .. owner
  redis.call('ZREM', h, n)
  if redis.call('ZCARD', h) == 0 then
    redis.call('SREM', P .. 'owners', owner)
    redis.call('SREM', 'telephony:owner-campaigns:' .. owner, P)
  end
end
