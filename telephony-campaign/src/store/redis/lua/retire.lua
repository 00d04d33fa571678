local owner = ARGV[1]
local CS = 'telephony:owner-campaigns:' .. owner
for _, P in ipairs(redis.call('SMEMBERS', CS)) do
  local h = P .. 'held:' .. owner
  for _, n in ipairs(redis.call('ZRANGE', h, 0, -1)) do
    local r = P .. 'rec:' .. n
    local v = redis.call('HMGET', r, 'status', 'owner', 'in_flight', 'attempts', 'seq', 'due')
    if v[1] ~= 'claimed' or v[2] ~= owner then
      redis.call('ZREM', h, n)
    elseif not v[3] then
      redis.call('ZREM', h, n)
      redis.call('HDEL', r, 'owner')
      redis.call('HSET', r, 'status', 'pending')
      redis.call('ZADD', P .. 'due', v[6], due_member(v[5], n))
      redis.call('HINCRBY', P .. 'counts', 'claimed', -1)
      redis.call('HINCRBY', P .. 'counts', waiting(v[4]), 1)
    end
  end
  if redis.call('ZCARD', h) == 0 then
    redis.call('SREM', P .. 'owners', owner)
    redis.call('SREM', CS, P)
  end
end
redis.call('DEL', 'telephony:owner:' .. owner)
return 1
