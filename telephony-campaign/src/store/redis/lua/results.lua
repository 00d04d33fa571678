local P = ARGV[1]
local out = {}
for _, n in ipairs(redis.call('LRANGE', P .. 'order', ARGV[2], ARGV[3])) do
  local v = redis.call('HMGET', P .. 'rec:' .. n, 'status', 'attempts', 'last')
  out[#out + 1] = redis.call('HGET', P .. 'contacts', n)
  out[#out + 1] = v[1]
  out[#out + 1] = v[2]
  out[#out + 1] = v[3]
end
return out
