local P, n, owner = ARGV[1], ARGV[2], ARGV[3]
local r = P .. 'rec:' .. n
local v = redis.call('HMGET', r, 'status', 'owner', 'in_flight', 'attempts', 'seq')
if v[1] ~= 'claimed' or v[2] ~= owner or v[3] then return 0 end
release(P, owner, n)
redis.call('HDEL', r, 'owner')
redis.call('HSET', r, 'status', 'pending', 'due', ARGV[4])
redis.call('ZADD', P .. 'due', ARGV[4], due_member(v[5], n))
redis.call('HINCRBY', P .. 'counts', 'claimed', -1)
redis.call('HINCRBY', P .. 'counts', waiting(v[4]), 1)
return 1
