/**
 * The rate limits' shared state in Redis (`RedisLimiter`): the same algorithms as
 * `MemoryLimiter` (src/delivery/rateLimited.ts) — the GCRA slots, the window over the sends let
 * through, the queue places kept per visit key and a stall's slip — each one Lua script on
 * Redis' own clock, so every worker on every machine shares one timeline.
 */
import type { Redis } from 'ioredis';
import { EARLY_MS, FORGET_RESERVATION_MS, HEADROOM, SLIP_MIN_MS, windowOf, type Bucket, type Limiter } from './rateLimited.ts';

// KEYS = buckets; ARGV = their emission intervals in microseconds. Redis' own clock, so workers
// on machines with skewed clocks share one timeline. Returns 0 (all taken) or the wait in µs.
const GCRA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local allowed = tonumber(redis.call('GET', key) or '0')
  if allowed - now > wait then wait = allowed - now end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[i])
  redis.call('SET', key, tostring(now + interval), 'PX', math.ceil(interval / 1000) + 1000)
end
return 0`;

// A kept place is stored as "place:slip1:…:slipN": the place (µs on Redis' clock) and each
// bucket's slip total when it was given; it is read moved back by each bucket's slips since
// (the most of them), as MemoryLimiter.placeOf reads it. A value without the totals (written
// before them) is read as it stands.
const KEPT_PLACE = `
local function placeOf(value, slipBase, n)
  local parts = {}
  for v in string.gmatch(value, '[^:]+') do parts[#parts + 1] = tonumber(v) end
  local moved = 0
  for i = 1, n do
    local slipped = tonumber(redis.call('GET', KEYS[slipBase + i]) or '0')
    local at = parts[i + 1] or slipped
    if slipped - at > moved then moved = slipped - at end
  end
  return parts[1] + moved
end
-- A new place at the end of every bucket's queue (KEYS[1..n], their intervals ARGV[1..n]),
-- each queue's end moved one interval past it.
local function nextPlace(now, n)
  local place = now
  for i = 1, n do
    local f = tonumber(redis.call('GET', KEYS[i]) or '0')
    if f > place then place = f end
  end
  for i = 1, n do
    local interval = tonumber(ARGV[i])
    redis.call('SET', KEYS[i], tostring(place + interval), 'PX', math.ceil((place - now + interval) / 1000) + 1000)
  end
  return place
end
local function keptValue(place, slipBase, n)
  local value = tostring(place)
  for i = 1, n do value = value .. ':' .. (redis.call('GET', KEYS[slipBase + i]) or '0') end
  return value
end`;

// KEYS = each bucket's queue end (n), each bucket's log of sends (n), each bucket's queue for
// sends the window turned back (n), each bucket's slip total (n), each bucket's furthest place
// let through (n), then the send's place;
// ARGV = per bucket its emission interval (µs), its window's count and its window (µs), then
// EARLY, FORGET and SLIP_MIN (µs). Redis' own clock. Returns 0 (go now) or the wait in µs (see reserve).
const RESERVE = `${KEPT_PLACE}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = (#KEYS - 1) / 5
local early = tonumber(ARGV[3 * n + 1])
local forget = tonumber(ARGV[3 * n + 2])
local slipMin = tonumber(ARGV[3 * n + 3])
local res = KEYS[5 * n + 1]
local kept = redis.call('GET', res)
local place
if kept then
  place = placeOf(kept, 3 * n, n)
else
  place = nextPlace(now, n)
end
if place - now > early then
  redis.call('SET', res, keptValue(place, 3 * n, n), 'PX', math.ceil(forget / 1000))
  return place - now
end
local wait = 0
for i = 1, n do
  local sends = tonumber(ARGV[n + i])
  local window = tonumber(ARGV[2 * n + i])
  if redis.call('LLEN', KEYS[n + i]) >= sends then
    local kth = tonumber(redis.call('LINDEX', KEYS[n + i], sends - 1))
    if kth + window - now > wait then wait = kth + window - now end
  end
end
if wait > 0 then
  local at = now + wait
  for i = 1, n do
    local w = tonumber(redis.call('GET', KEYS[2 * n + i]) or '0')
    if w > at then at = w end
  end
  for i = 1, n do
    local interval = tonumber(ARGV[i])
    redis.call('SET', KEYS[2 * n + i], tostring(at + interval), 'PX', math.ceil((at - now + interval) / 1000) + 1000)
  end
  -- The slip (from when the send asked) moves back every place kept behind this send, and the
  -- queue's end, unless the queue has passed this send's place (a straggler moves nothing).
  local slip = at - math.max(now, place)
  for i = 1, n do
    local passed = tonumber(redis.call('GET', KEYS[4 * n + i]) or '-1')
    if slip >= slipMin and place > passed then
      redis.call('SET', KEYS[3 * n + i], tostring(tonumber(redis.call('GET', KEYS[3 * n + i]) or '0') + slip), 'PX', math.ceil(forget / 1000))
      local interval = tonumber(ARGV[i])
      local f = tonumber(redis.call('GET', KEYS[i]) or '0') + slip
      if f < at + interval then f = at + interval end
      redis.call('SET', KEYS[i], tostring(f), 'PX', math.ceil((f - now) / 1000) + 1000)
      redis.call('SET', KEYS[4 * n + i], tostring(at), 'PX', math.ceil(forget / 1000))
    end
  end
  redis.call('SET', res, keptValue(at, 3 * n, n), 'PX', math.ceil(forget / 1000))
  return at - now
end
redis.call('DEL', res)
for i = 1, n do
  local sends = tonumber(ARGV[n + i])
  local window = tonumber(ARGV[2 * n + i])
  redis.call('LPUSH', KEYS[n + i], tostring(now))
  redis.call('LTRIM', KEYS[n + i], 0, sends - 1)
  redis.call('PEXPIRE', KEYS[n + i], math.ceil(window / 1000) + 1000)
  local passed = tonumber(redis.call('GET', KEYS[4 * n + i]) or '-1')
  if place > passed then redis.call('SET', KEYS[4 * n + i], tostring(place), 'PX', math.ceil(forget / 1000)) end
end
return 0`;

// KEYS = each bucket's queue end (n), each bucket's slip total (n), then one place per send;
// ARGV = per bucket its emission interval (µs), then FORGET (µs). Gives each send without a
// place the next one (see queue); returns the wait until each send's place, in µs.
const QUEUE = `${KEPT_PLACE}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #ARGV - 1
local forget = tonumber(ARGV[n + 1])
local waits = {}
for j = 2 * n + 1, #KEYS do
  local kept = redis.call('GET', KEYS[j])
  local place
  if kept then
    place = placeOf(kept, n, n)
  else
    place = nextPlace(now, n)
  end
  redis.call('SET', KEYS[j], keptValue(place, n, n), 'PX', math.ceil((place - now + forget) / 1000))
  local wait = place - now
  if wait < 0 then wait = 0 end
  waits[#waits + 1] = wait
end
return waits`;

export class RedisLimiter implements Limiter {
  async queue(buckets: Bucket[], keys: string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const redisKeys = [
      ...buckets.map(([b]) => `${this.prefix}:q:${b}`),
      ...buckets.map(([b]) => `${this.prefix}:slip:${b}`),
      ...keys.map((key) => `${this.prefix}:res:${key}`),
    ];
    const args = [...buckets.map(([, perSecond]) => Math.ceil((1_000_000 / perSecond) * HEADROOM)), FORGET_RESERVATION_MS * 1000];
    const waitsUs = (await this.redis.eval(QUEUE, redisKeys.length, ...redisKeys, ...args)) as number[];
    return waitsUs.map((us) => Math.ceil(Number(us) / 1000));
  }
  async reserve(buckets: Bucket[], key: string): Promise<number> {
    const keys = [
      ...buckets.map(([b]) => `${this.prefix}:q:${b}`),
      ...buckets.map(([b]) => `${this.prefix}:log:${b}`),
      ...buckets.map(([b]) => `${this.prefix}:wq:${b}`),
      ...buckets.map(([b]) => `${this.prefix}:slip:${b}`),
      ...buckets.map(([b]) => `${this.prefix}:passed:${b}`),
      `${this.prefix}:res:${key}`,
    ];
    const args = [
      ...buckets.map(([, perSecond]) => Math.ceil((1_000_000 / perSecond) * HEADROOM)),
      ...buckets.map(([, perSecond]) => windowOf(perSecond).sends),
      ...buckets.map(([, perSecond]) => Math.ceil(windowOf(perSecond).ms * 1000)),
      EARLY_MS * 1000,
      FORGET_RESERVATION_MS * 1000,
      SLIP_MIN_MS * 1000,
    ];
    const waitUs = await this.redis.eval(RESERVE, keys.length, ...keys, ...args);
    return Math.ceil(Number(waitUs) / 1000);
  }
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}
  async acquire(buckets: Bucket[]): Promise<number> {
    const keys = buckets.map(([key]) => `${this.prefix}:${key}`);
    const intervals = buckets.map(([, perSecond]) => Math.ceil((1_000_000 / perSecond) * HEADROOM));
    const waitUs = await this.redis.eval(GCRA, keys.length, ...keys, ...intervals);
    return Math.ceil(Number(waitUs) / 1000);
  }
  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
