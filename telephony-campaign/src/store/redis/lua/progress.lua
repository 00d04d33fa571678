local P = ARGV[1]
local state = redis.call('GET', P .. 'state')
local counts = redis.call('HGETALL', P .. 'counts')
local first = redis.call('ZRANGE', P .. 'due', 0, 0)
local due = false
if first[1] then
  due = redis.call('HGET', P .. 'rec:' .. string.sub(first[1], 16), 'due')
end
return {state, counts, due}
