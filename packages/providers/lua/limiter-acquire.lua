--[[
  limiter-acquire: GCRA admission with an adaptive rate, for one bucket (provider key +
  operation) shared by every worker. Mirrors src/call-path/limiter-math.ts (admit and
  effectiveRps); keep them in step. limiter-common.lua is loaded in front of it.

  Invariant: with burst b and steady rate r <= budget - b + 1 (limiter-math.ts's steadyRps, which
  also leaves room for arrival jitter), no one-second window holds more than `budget` admitted
  calls, whatever the number of workers, because every admission moves the one shared
  theoretical arrival time (tat) atomically.
  Time is Redis's own clock (TIME), so workers' clocks do not matter.
  The hash holds numbers only: timestamps and rates. Never a secret value.

  KEYS[1]  the bucket's hash: tat, base, ceil, at, hold, admissions per epoch second
           (w: the second, wc: its count, pc: the previous second's) for limiter-throttled,
           line: the last place in line given to a denied call, uline: the same for urgent
           calls; per tenant: 'uline:' .. tenant (its urgent line), 'ctat:' .. tenant and
           'cline:' .. tenant (a capped tenant's own GCRA and line; only tenants the operator
           capped, so the fields are as many as the configuration names); turns: 'turn' (the
           last slot a tenant's turn booked), 'turnleft' (the turns its run has left) and
           'turn:' .. tenant (the last slot of that tenant's turn)
  ARGV[1]  steadyRps       ARGV[2]  burst          ARGV[3]  maxWaitMs
  ARGV[4]  minRps          ARGV[5]  rampMs         ARGV[6]  holdMs (default; the hash's
  'hold' field wins)       ARGV[7]  probeRpsPerSec ARGV[8]  ttlMs
  ARGV[9]  '1' for an urgent call (a new or changed spec): denied, it gets a place in the
           urgent line (field uline) instead of the line
  ARGV[10] routine share: > 0 for a routine call, held to that share of the rate as well
           (fields rtat and rline: its own GCRA and line, limiter-math.ts admit)
  ARGV[11] calls: slots asked for in a row (1 for a single call; the reads of one sync ask for
           all theirs), booked as that many single calls one after the other would be, at most
           ARGV[12] reservationMs of the lane's interval in one admission
  ARGV[13] '1' when the sync already holds slots (committed): never deferred, it waits
  ARGV[14] the tenant (namespace) of the call, or '': held to its cap (ARGV[16]) in every lane;
           an urgent call denied gets a place in its tenant's own urgent line (field
           'uline:' .. tenant), so tenants take turns; an urgent call of a tenant with no place
           at or beyond tat takes its turn: booked up to maxWait + reservationMs ahead
  ARGV[15] '1' when the asking process had an answer from this bucket within its TTL: a missing
           tat is then a lost bucket (limiter-math.ts lostBucketTatMs)
  ARGV[16] the tenant's cap: its most share of the rate (0 < cap <= 1), 0 when uncapped
  ARGV[17] the tenant's weight (default 1): its urgent line steps by the interval over it; above
           1, its turns come in runs of up to that many in a row
  Returns { allowed (1|0), waitMs (string; denied: when to come back, its place in line),
  rateRps (string), slotMs (string: Redis time the call conforms at or comes back at, for tests
  and traces), granted (slots booked), spacingMs (string: between booked slots), firstSlotInMs
  (string: the first booked slot from now, below zero when the burst lets calls go at once),
  capped ('1' when the tenant's cap decided the time, else '0') }
]]
local steady = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
local minRps = tonumber(ARGV[4])
local rampMs = tonumber(ARGV[5])
local holdMs = tonumber(ARGV[6])
local probe = tonumber(ARGV[7])
local ttlMs = tonumber(ARGV[8])
local urgent = ARGV[9] == '1'
local routineShare = tonumber(ARGV[10]) or 0
local calls = math.floor(tonumber(ARGV[11]) or 1)
local reservationMs = tonumber(ARGV[12]) or 0
local committed = ARGV[13] == '1'
local tenant = ARGV[14] or ''
local known = ARGV[15] == '1'
local cap = tonumber(ARGV[16]) or 0
local weight = tonumber(ARGV[17]) or 1
if tenant == '' then cap = 0; weight = 1 end
if not (weight > 0) then weight = 1 end

local now = redisNowMs()

local s = redis.call('HMGET', KEYS[1], 'tat', 'base', 'ceil', 'at', 'hold', 'rtat', 'ctat:' .. tenant, 'uline:' .. tenant,
  'turn', 'turnleft', 'turn:' .. tenant)
local tat = tonumber(s[1])
local base = tonumber(s[2])
local ceil = tonumber(s[3])
local at = tonumber(s[4])
holdMs = tonumber(s[5]) or holdMs
local rtat = tonumber(s[6])
local ctat = tonumber(s[7])
local tenantLine = tonumber(s[8])
local lastTurn = tonumber(s[9])
local lastTurnLeft = tonumber(s[10]) or 0
local tenantTurn = tonumber(s[11])

local rate = rateInForce(steady, minRps, rampMs, holdMs, probe, base, ceil, at, now)

-- 10 us margin: epoch ms in a double have ~0.2 us precision; see limiter-math.ts intervalMs.
local interval = 1000 / rate + 0.01
-- A missing tat the asker knew is a lost bucket (FLUSHALL, a restart without persistence) whose
-- admissions may still be waiting in the workers: start as if the furthest horizon a live
-- bucket can book were spent (limiter-math.ts lostBucketTatMs), so new slots come after the
-- lost ones. A bucket nobody knew starts now.
local lost = (not tat) and known
if lost then
  tat = now + maxWait + reservationMs + burst * interval
elseif not tat or tat < now then
  tat = now
end
local routine = (not urgent) and routineShare > 0
local rinterval = 0
if routine then
  rinterval = 1000 / (rate * math.min(1, routineShare)) + 0.01
  if not rtat or rtat < now then rtat = now end
else
  rtat = 0
end
-- A capped tenant's own GCRA at its share of the rate (limiter-math.ts admit).
local cinterval = 0
if cap > 0 then
  cinterval = 1000 / (rate * cap) + 0.01
  if not ctat or ctat < now then ctat = now end
end
-- Slots booked in a row are one lane interval apart (the cap's when longer); at most
-- reservationMs of them at once.
local spacing = interval
if routine then spacing = rinterval end
if cinterval > spacing then spacing = cinterval end
local granted = math.max(1, math.min(calls, math.floor(reservationMs / spacing)))
-- Sent at its slot in the bucket, or later if the routine share or the tenant's cap binds.
local mainSend = tat + interval - burst * interval
local uncapped = mainSend
if routine then uncapped = math.max(mainSend, rtat) end
local send = uncapped
local capped = cap > 0 and ctat > uncapped
if capped then send = ctat end
local cappedFlag = '0'
if capped then cappedFlag = '1' end
local last = send + (granted - 1) * spacing
local newTat = last + burst * interval
local wait = send - now
-- A tenant's turn (limiter-math.ts admit): an urgent call of a tenant that holds no place at or
-- beyond the reserved slots (nothing of it is waiting in line) books its slots even past
-- maxWait, if the last lies within maxWait + reservationMs, the furthest a booking reaches
-- anyway (a lost bucket restarts past it); its line then stands at that slot plus an interval
-- (over its weight, when that is below 1), so it has its next turn only after another admission.
-- Above 1, its turns come in runs of up to its weight in a row (its line stands at its slot), and
-- while its run has turns left no other tenant's turn cuts in (limiter-math.ts turnRunOf).
local run = true
local runLeft = nil
if lastTurn and lastTurn > mainSend - 1.5 * interval then
  if tenantTurn == lastTurn then
    run = lastTurnLeft > 0
    runLeft = lastTurnLeft
  else
    run = lastTurnLeft <= 0
  end
end
local turn = urgent and tenant ~= '' and not capped and run and wait > maxWait and last - now <= maxWait + reservationMs
  and (tenantLine == nil or tenantLine < tat)
if wait <= maxWait or committed or turn then
  -- Count the admission (limiter-math.ts countAdmission): the measured rate a throttle uses.
  local cnt = redis.call('HMGET', KEYS[1], 'w', 'wc')
  local sec = math.floor(now / 1000)
  local w = tonumber(cnt[1])
  local wc = tonumber(cnt[2]) or 0
  local pc
  if w == sec then
    wc = wc + granted
    redis.call('HSET', KEYS[1], 'tat', string.format('%.4f', newTat), 'wc', wc)
  else
    if w == sec - 1 then pc = wc else pc = 0 end
    redis.call('HSET', KEYS[1], 'tat', string.format('%.4f', newTat), 'w', sec, 'wc', granted, 'pc', pc)
  end
  if routine then redis.call('HSET', KEYS[1], 'rtat', string.format('%.4f', last + rinterval)) end
  if cap > 0 then redis.call('HSET', KEYS[1], 'ctat:' .. tenant, string.format('%.4f', last + cinterval)) end
  if turn then
    local line = last + interval / weight
    if weight > 1 then line = last end
    local turnAt = string.format('%.4f', last)
    redis.call('HSET', KEYS[1], 'uline:' .. tenant, string.format('%.4f', line), 'turn', turnAt,
      'turnleft', string.format('%.4f', (runLeft or weight) - granted), 'turn:' .. tenant, turnAt)
  end
  redis.call('PEXPIRE', KEYS[1], ttlMs)
  local first = wait
  wait = math.max(0, wait)
  return { 1, string.format('%.3f', wait), string.format('%.6f', rate), string.format('%.6f', now + wait),
    granted, string.format('%.4f', spacing), string.format('%.3f', first), cappedFlag }
end
-- Denied: a place in one of the lines (field line, uline or rline), one step after the last
-- place given there and not before `from`; the line moves on by the slots asked for; the
-- caller is told to come back `lead` ms before its place, less half of maxWait
-- (limiter-math.ts admit). A lost bucket's tat is kept even then: recomputed at every ask, it
-- would move on with the clock and no call would ever be admitted.
local function comeBackInLine(field, from, step, lead)
  if lost then redis.call('HSET', KEYS[1], 'tat', string.format('%.4f', tat)) end
  local place = tonumber(redis.call('HGET', KEYS[1], field)) or 0
  if place < from then place = from end
  place = place + step
  redis.call('HSET', KEYS[1], field, string.format('%.4f', place + (granted - 1) * step))
  redis.call('PEXPIRE', KEYS[1], ttlMs)
  local back = place - lead - maxWait / 2 - now
  return { 0, string.format('%.3f', back), string.format('%.6f', rate), string.format('%.6f', now + back),
    0, string.format('%.4f', spacing), string.format('%.3f', back), cappedFlag }
end
-- Held by the tenant's cap: its own line, at the cap's interval, whatever the lane.
if capped then return comeBackInLine('cline:' .. tenant, ctat, cinterval, cinterval) end
-- Urgent: the urgent line, which starts at the reserved slots (not behind deferred work); a
-- tenant's own steps by the interval over its weight, so the lines take turns in proportion.
if urgent and tenant ~= '' then return comeBackInLine('uline:' .. tenant, tat, interval / weight, burst * interval) end
if urgent then return comeBackInLine('uline', tat, interval, burst * interval) end
-- Held by the routine share: the routine line, at the share's interval.
if routine and rtat > mainSend then return comeBackInLine('rline', rtat, rinterval, rinterval) end
-- Anything else: the line of deferred work.
return comeBackInLine('line', tat, interval, burst * interval)
