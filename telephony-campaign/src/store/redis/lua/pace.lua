local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local step = tonumber(ARGV[1])
local slot = now
local last = redis.call('GET', KEYS[1])
if last then
  local l = tonumber(last)
  if l == nil then return redis.error_reply('pacing key holds ' .. last) end
  slot = math.max(now, l + step)
end
slot = math.min(slot, tonumber(ARGV[2]))
local keep_ms = math.floor((slot - now + step) / 1000) + 60000
redis.call('SET', KEYS[1], string.format('%d', slot), 'PX', string.format('%d', keep_ms))
return slot - now
