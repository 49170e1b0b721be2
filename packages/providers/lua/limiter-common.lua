--[[
  limiter-common: the part of the limiter both scripts need, loaded in front of each of them
  (rate-limiter.ts loadScript): Redis's clock and the adaptive rate in force. Mirrors
  src/call-path/limiter-math.ts (effectiveRps); keep them in step.
]]

-- Redis's own clock in epoch ms (TIME), so workers' clocks do not matter.
local function redisNowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end

-- The rate in force at `now` after the last decrease (at, base, ceil, hold from the hash): a
-- ramp from base to ceil over rampMs, a hold at ceil, then a probe up at probe rps per second;
-- never below minRps nor above steady. Also returns the time since the decrease (nil if none).
local function rateInForce(steady, minRps, rampMs, holdMs, probe, base, ceil, at, now)
  if not (at and base and ceil) then return steady, nil end
  local dt = math.max(0, now - at)
  local rate
  if dt < rampMs then
    rate = base + (ceil - base) * dt / rampMs
  elseif dt < rampMs + holdMs then
    rate = ceil
  else
    rate = ceil + probe * (dt - rampMs - holdMs) / 1000
  end
  return math.min(steady, math.max(minRps, rate)), dt
end
