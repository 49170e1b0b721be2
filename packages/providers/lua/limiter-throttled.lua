--[[
  limiter-throttled: a throttling reply from the store lowers the bucket's rate for every
  worker. Mirrors src/call-path/limiter-math.ts (onThrottled): once per cooldown, the rate drops
  to decreaseFactor × the rate in force, and the rate it will climb back to (ceil) is set just
  below the rate that was throttled; limiter-acquire ramps from base to ceil, holds, then probes.
  A throttle met while probing doubles the hold (up to maxHoldMs); one met after full recovery
  starts over with the default hold. limiter-common.lua is loaded in front of it.

  KEYS[1]  the bucket's hash: tat, base, ceil, at, hold, w, wc, pc (admissions per second)
  ARGV[1]  steadyRps       ARGV[2]  minRps         ARGV[3]  rampMs
  ARGV[4]  holdMs          ARGV[5]  probeRpsPerSec ARGV[6]  decreaseFactor
  ARGV[7]  ceilingFactor   ARGV[8]  cooldownMs     ARGV[9]  ttlMs
  ARGV[10] maxHoldMs
  Returns { decreased (1|0), rateRps (string) }
]]
local steady = tonumber(ARGV[1])
local minRps = tonumber(ARGV[2])
local rampMs = tonumber(ARGV[3])
local holdMs = tonumber(ARGV[4])
local probe = tonumber(ARGV[5])
local decrease = tonumber(ARGV[6])
local ceilingFactor = tonumber(ARGV[7])
local cooldown = tonumber(ARGV[8])
local ttlMs = tonumber(ARGV[9])
local maxHold = tonumber(ARGV[10])

local now = redisNowMs()

local s = redis.call('HMGET', KEYS[1], 'base', 'ceil', 'at', 'hold')
local base = tonumber(s[1])
local ceil = tonumber(s[2])
local at = tonumber(s[3])
local prevHold = tonumber(s[4]) or holdMs
local newHold = holdMs

local rate, dt = rateInForce(steady, minRps, rampMs, prevHold, probe, base, ceil, at, now)
if dt then
  if dt < cooldown then
    return { 0, string.format('%.6f', rate) }
  end
  if rate < steady then
    if dt >= rampMs + prevHold then
      newHold = math.min(maxHold, prevHold * 2)
    else
      newHold = prevHold
    end
  end
end

-- The throttled rate: the lower of the rate in force and the rate measured over the last second
-- (limiter-math.ts measuredRps), as AWS's adaptive retry mode decreases from its measured send rate.
local cnt = redis.call('HMGET', KEYS[1], 'w', 'wc', 'pc')
local sec = math.floor(now / 1000)
local frac = (now - sec * 1000) / 1000
local w = tonumber(cnt[1])
local measured = nil
if w == sec then
  measured = (tonumber(cnt[3]) or 0) * (1 - frac) + (tonumber(cnt[2]) or 0)
elseif w == sec - 1 then
  measured = (tonumber(cnt[2]) or 0) * (1 - frac)
end
if measured and measured >= 1 and measured < rate then rate = measured end

local newBase = math.max(minRps, rate * decrease)
local newCeil = math.max(newBase, rate * ceilingFactor)
redis.call('HSET', KEYS[1], 'base', string.format('%.6f', newBase), 'ceil', string.format('%.6f', newCeil),
  'at', string.format('%.3f', now), 'hold', string.format('%.0f', newHold))
redis.call('PEXPIRE', KEYS[1], ttlMs)
return { 1, string.format('%.6f', newBase) }
