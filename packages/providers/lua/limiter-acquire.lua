--[[
  limiter-acquire: GCRA admission with an adaptive rate, for one bucket (provider key +
  operation) shared by every worker. Mirrors src/call-path/limiter-math.ts (admit and
  effectiveRps); keep them in step.

  Invariant: with burst b and steady rate r <= budget - b + 1 (limiter-math.ts's steadyRps, which
  also leaves room for arrival jitter), no one-second window holds more than `budget` admitted
  calls, whatever the number of workers, because every admission moves the one shared
  theoretical arrival time (tat) atomically.
  Time is Redis's own clock (TIME), so workers' clocks do not matter.
  The hash holds numbers only: timestamps and rates. Never a secret value.

  KEYS[1]  the bucket's hash: tat, base, ceil, at, hold, admissions per epoch second
           (w: the second, wc: its count, pc: the previous second's) for limiter-throttled,
           ep: the epoch tickets must carry (limiter-throttled starts a new one), and held:
           the tat after the last admitted call (what a throttle may not give back)
  ARGV[1]  steadyRps       ARGV[2]  burst          ARGV[3]  maxWaitMs
  ARGV[4]  minRps          ARGV[5]  rampMs         ARGV[6]  holdMs (default; the hash's
  'hold' field wins)       ARGV[7]  probeRpsPerSec ARGV[8]  ttlMs
  ARGV[9]  ticket slot (ms, or '' for none)         ARGV[10] ticket epoch
  ARGV[11] ticket tolerance (ms late it may still be used)
  ARGV[12] '1' when the caller can keep a ticket (a denial then reserves its slot)
  Returns { allowed (1|0), waitMs (string; denied: when to come back with the ticket),
  rateRps (string), slotMs (string: Redis time of the call's slot, reserved also when denied),
  epoch (string: the ticket's epoch) }
]]
local steady = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
local minRps = tonumber(ARGV[4])
local rampMs = tonumber(ARGV[5])
local holdMs = tonumber(ARGV[6])
local probe = tonumber(ARGV[7])
local ttlMs = tonumber(ARGV[8])
local ticketSlot = tonumber(ARGV[9])
local ticketEpoch = tonumber(ARGV[10])
local tolerance = tonumber(ARGV[11])
local reserve = ARGV[12] == '1'

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000

local s = redis.call('HMGET', KEYS[1], 'tat', 'base', 'ceil', 'at', 'hold', 'ep')
local tat = tonumber(s[1])
local base = tonumber(s[2])
local ceil = tonumber(s[3])
local at = tonumber(s[4])
holdMs = tonumber(s[5]) or holdMs
local epoch = tonumber(s[6]) or 0

local rate = steady
if at and base and ceil then
  local dt = math.max(0, now - at)
  if dt < rampMs then
    rate = base + (ceil - base) * dt / rampMs
  elseif dt < rampMs + holdMs then
    rate = ceil
  else
    rate = ceil + probe * (dt - rampMs - holdMs) / 1000
  end
  rate = math.min(steady, math.max(minRps, rate))
end

-- Counts an admission (limiter-math.ts countAdmission): the measured rate a throttle uses.
local function count()
  local cnt = redis.call('HMGET', KEYS[1], 'w', 'wc')
  local sec = math.floor(now / 1000)
  local w = tonumber(cnt[1])
  local wc = tonumber(cnt[2]) or 0
  if w == sec then
    redis.call('HSET', KEYS[1], 'wc', wc + 1)
  else
    local pc = 0
    if w == sec - 1 then pc = wc end
    redis.call('HSET', KEYS[1], 'w', sec, 'wc', 1, 'pc', pc)
  end
end

local function reply(allowed, wait, slot)
  redis.call('PEXPIRE', KEYS[1], ttlMs)
  return { allowed, string.format('%.3f', wait), string.format('%.6f', rate), string.format('%.6f', slot), tostring(epoch) }
end

-- A ticket of this epoch, not too late: its slot was reserved when it was denied.
if ticketSlot and ticketEpoch == epoch and now - ticketSlot <= tolerance then
  local w = ticketSlot - now
  if w <= maxWait then
    count()
    local held = tonumber(redis.call('HGET', KEYS[1], 'held')) or 0
    local mine = ticketSlot + burst * (1000 / rate + 0.01)
    if mine > held then redis.call('HSET', KEYS[1], 'held', string.format('%.4f', mine)) end
    return reply(1, math.max(0, w), ticketSlot)
  end
  return reply(0, w - maxWait / 2, ticketSlot)
end

-- 10 us margin: epoch ms in a double have ~0.2 us precision; see limiter-math.ts intervalMs.
local interval = 1000 / rate + 0.01
if not tat or tat < now then tat = now end
local newTat = tat + interval
local wait = newTat - burst * interval - now
if wait <= maxWait then
  count()
  redis.call('HSET', KEYS[1], 'tat', string.format('%.4f', newTat), 'held', string.format('%.4f', newTat))
  return reply(1, math.max(0, wait), now + math.max(0, wait))
end
-- Denied: the slot is reserved all the same and the caller comes back with a ticket for it;
-- a caller that cannot keep a ticket reserves nothing (limiter-math.ts admit).
if not reserve then
  return reply(0, wait, now + wait)
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.4f', newTat))
return reply(0, wait - maxWait / 2, now + wait)
