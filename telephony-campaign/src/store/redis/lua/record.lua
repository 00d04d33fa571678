local P = ARGV[1]
local r = P .. 'rec:' .. ARGV[2]
local v = redis.call('HMGET', r, 'status', 'owner', 'in_flight')
if v[1] ~= 'claimed' or v[2] ~= ARGV[3] then return 0 end
-- An owner whose lease ran out records nothing: another dialer may be taking its claims.
if redis.call('EXISTS', 'telephony:owner:' .. ARGV[3]) == 0 then return 0 end
if not v[3] then redis.call('HINCRBY', P .. 'counts', 'flying', 1) end
redis.call('HSET', r, 'in_flight', ARGV[4])
return 1
