local P = ARGV[1]
redis.call('SET', P .. 'state', 'running', 'NX')
local added = 0
for i = 2, #ARGV - 1, 2 do
  local n = ARGV[i]
  if redis.call('HSETNX', P .. 'contacts', n, ARGV[i + 1]) == 1 then
    local seq = redis.call('INCR', P .. 'seq')
    redis.call('HSET', P .. 'rec:' .. n, 'status', 'pending', 'due', '0', 'attempts', '0', 'seq', seq)
    redis.call('ZADD', P .. 'due', 0, due_member(seq, n))
    redis.call('RPUSH', P .. 'order', n)
    added = added + 1
  end
end
if added > 0 then
  redis.call('HINCRBY', P .. 'counts', 'total', added)
  redis.call('HINCRBY', P .. 'counts', 'pending', added)
end
return added
