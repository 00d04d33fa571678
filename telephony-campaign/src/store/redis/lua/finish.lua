local P, n, owner = ARGV[1], ARGV[2], ARGV[3]
local r = P .. 'rec:' .. n
local v = redis.call('HMGET', r, 'status', 'owner', 'in_flight', 'attempts', 'seq')
if v[1] ~= 'claimed' or v[2] ~= owner then return 0 end
local C = P .. 'counts'
if v[3] then redis.call('HINCRBY', C, 'flying', -1) end
redis.call('HINCRBY', C, 'attempts', tonumber(ARGV[5]) - tonumber(v[4]))
redis.call('HINCRBY', C, 'claimed', -1)
release(P, owner, n)
redis.call('HDEL', r, 'owner', 'in_flight')
redis.call('HSET', r, 'attempts', ARGV[5], 'last', ARGV[4])
if ARGV[6] == 'done' then
  redis.call('HSET', r, 'status', 'done')
  redis.call('HINCRBY', C, 'done', 1)
  redis.call('HINCRBY', C, 'o:' .. ARGV[7], 1)
else
  redis.call('HSET', r, 'status', 'pending', 'due', ARGV[6])
  redis.call('ZADD', P .. 'due', ARGV[6], due_member(v[5], n))
  redis.call('HINCRBY', C, waiting(ARGV[5]), 1)
end
return 1
