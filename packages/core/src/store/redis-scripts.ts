/**
 * The Redis store's Lua scripts. Each runs atomically on the server, so every read-decide-write
 * below is one step for all replicas; `TIME` is the server's clock, the one they share.
 *
 * Data: one hash per installation (`<prefix>i:<id>`, fields named as `InstallationRecord`, plus
 * `envelope`, `pendingSeq`, `pendingMarkedAt`, `leaseOwner`, `leaseUntil`, `lastClaimedAt`,
 * `schedAt`; a missing
 * field is null) and sorted sets that index them: `all` and `active` (score 0: by id), `pending`
 * (by pendingSince), `attempts` (by lastAttemptAt, never = -inf), `sched` (by schedAt), `leases`
 * (by leaseUntil). Every script gets the same KEYS, in `REDIS_KEY_NAMES` order.
 * Semantics: `record-transitions.ts` and `lease-transitions.ts`.
 */
export const REDIS_KEY_NAMES = [
  'i:',
  'all',
  'active',
  'pending',
  'attempts',
  'sched',
  'leases',
] as const

const PRELUDE = `
local K_INST, K_ALL, K_ACTIVE, K_PENDING, K_ATTEMPTS, K_SCHED, K_LEASES =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
if redis.replicate_commands then redis.replicate_commands() end
local function fmt(n) return string.format('%.0f', n) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function is_live(owner, lease_until, now)
  return owner and tonumber(lease_until) > now
end
-- Puts an installation in the indexes its hash calls for.
local function reindex(id)
  local f = redis.call('HMGET', K_INST .. id, 'tokenState', 'pending', 'pendingSince',
    'lastAttemptAt', 'schedAt')
  if f[1] == 'active' then
    redis.call('ZADD', K_ACTIVE, 0, id)
    if f[2] == '1' then redis.call('ZADD', K_PENDING, f[3], id) else redis.call('ZREM', K_PENDING, id) end
    redis.call('ZADD', K_ATTEMPTS, f[4] or '-inf', id)
    redis.call('ZADD', K_SCHED, f[5] or '-inf', id)
  else
    redis.call('ZREM', K_ACTIVE, id)
    redis.call('ZREM', K_PENDING, id)
    redis.call('ZREM', K_ATTEMPTS, id)
    redis.call('ZREM', K_SCHED, id)
  end
end
`

/** ARGV: id, envelope, tokenType, at. */
export const SAVE_CREDENTIALS = `${PRELUDE}
local id, envelope, token_type, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local key = K_INST .. id
if redis.call('EXISTS', key) == 1 then
  if redis.call('HGET', key, 'pending') ~= '1' then
    redis.call('HSET', key, 'pendingSince', at, 'pendingMarkedAt', fmt(now_ms()))
  end
  redis.call('HINCRBY', key, 'tokenGeneration', 1)
  redis.call('HINCRBY', key, 'pendingSeq', 1)
  redis.call('HSET', key, 'envelope', envelope, 'tokenType', token_type, 'tokenState', 'active',
    'pending', '1', 'updatedAt', at)
else
  redis.call('HSET', key, 'envelope', envelope, 'tokenType', token_type, 'tokenState', 'active',
    'tokenGeneration', '1', 'pending', '1', 'pendingSince', at, 'pendingSeq', '1',
    'pendingMarkedAt', fmt(now_ms()), 'createdAt', at, 'updatedAt', at)
  redis.call('ZADD', K_ALL, 0, id)
end
reindex(id)
return 1
`

/**
 * ARGV[1]: JSON array of writes, applied in order: {t:'m',id,at} markPending,
 * {t:'s',id,at,ts} reportStarted, {t:'f',id,at,o,st?,c,seq?,lease?,state?,gen?} reportFinished.
 */
export const APPLY_WRITES = `${PRELUDE}
for _, w in ipairs(cjson.decode(ARGV[1])) do
  local key = K_INST .. w.id
  if redis.call('EXISTS', key) == 1 then
    local at = fmt(w.at)
    if w.t == 'm' then
      local f = redis.call('HMGET', key, 'pending', 'leaseOwner')
      -- Already pending and no lease: nothing changes.
      if f[1] ~= '1' or f[2] then
        redis.call('HINCRBY', key, 'pendingSeq', 1)
        if f[1] ~= '1' then
          redis.call('HSET', key, 'pending', '1', 'pendingSince', at, 'updatedAt', at,
            'pendingMarkedAt', fmt(now_ms()))
          reindex(w.id)
        end
      end
    elseif w.t == 's' then
      redis.call('HSET', key, 'lastTimestamp', w.ts, 'lastAttemptAt', at, 'updatedAt', at)
      reindex(w.id)
    else
      local f = redis.call('HMGET', key, 'pendingSeq', 'leaseOwner', 'tokenGeneration')
      redis.call('HSET', key, 'lastOutcome', w.o, 'lastAttemptAt', at, 'updatedAt', at)
      if w.st then redis.call('HSET', key, 'lastStatus', fmt(w.st)) else redis.call('HDEL', key, 'lastStatus') end
      if w.o == 'delivered' then redis.call('HSET', key, 'lastDeliveredAt', at) end
      if w.c and (w.seq == nil or tonumber(f[1] or '0') == w.seq) then
        redis.call('HSET', key, 'pending', '0')
        redis.call('HDEL', key, 'pendingSince')
      end
      if w.state and w.gen and tonumber(f[3]) == w.gen then redis.call('HSET', key, 'tokenState', w.state) end
      if w.lease and f[2] == w.lease then
        redis.call('HDEL', key, 'leaseOwner', 'leaseUntil')
        redis.call('ZREM', K_LEASES, w.id)
      end
      reindex(w.id)
    end
  end
end
return 1
`

/** ARGV: id. Returns 1 if it existed. */
export const DELETE_INSTALLATION = `${PRELUDE}
local id = ARGV[1]
local existed = redis.call('DEL', K_INST .. id)
for _, index in ipairs({K_ALL, K_ACTIVE, K_PENDING, K_ATTEMPTS, K_SCHED, K_LEASES}) do
  redis.call('ZREM', index, id)
end
return existed
`

/** ARGV: after ('' for none), limit. Returns id, envelope, id, envelope, … */
export const LIST_ENVELOPES = `${PRELUDE}
local from = ARGV[1] == '' and '-' or ('(' .. ARGV[1])
local ids = redis.call('ZRANGEBYLEX', K_ALL, from, '+', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', K_INST .. id, 'envelope')
end
return out
`

/** ARGV: id, previous, envelope, id, previous, envelope, … Returns how many were replaced. */
export const REPLACE_ENVELOPES = `${PRELUDE}
local replaced = 0
for i = 1, #ARGV, 3 do
  local key = K_INST .. ARGV[i]
  if redis.call('HGET', key, 'envelope') == ARGV[i + 1] then
    redis.call('HSET', key, 'envelope', ARGV[i + 2])
    replaced = replaced + 1
  end
end
return replaced
`

/**
 * ISO-8601 text ↔ epoch ms, for reserved timestamps (`nextTimestamp` in monotonic-timestamp.ts):
 * the proleptic Gregorian day count of a civil date and back (H. Hinnant's algorithms), as
 * Redis's Lua has no date functions. `iso_ms` gives nil for text that is no such timestamp.
 */
const ISO_TIME = `
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end
local function iso_ms(text)
  if not text then return nil end
  local y, mo, d, h, mi, s, frac = string.match(text,
    '^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)%.?(%d*)Z$')
  if not y then return nil end
  local ms = tonumber(string.sub(frac .. '000', 1, 3)) -- truncated, as Date.parse does
  local days = days_from_civil(tonumber(y), tonumber(mo), tonumber(d))
  return ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60000 + tonumber(s) * 1000 + ms
end
local function ms_iso(ms)
  local z = math.floor(ms / 86400000)
  local rest = ms - z * 86400000
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(rest / 3600000), math.floor(rest / 60000) % 60, math.floor(rest / 1000) % 60,
    rest % 1000)
end
`

/**
 * One claim (`claimLease` in lease-transitions.ts) at the script's `now`. `only_if` is '1'/'0',
 * `idle_ms` '' for none, `reserve_from` '' for no timestamp reservation. Returns {'claimed',
 * envelope, tokenType, tokenState, tokenGeneration, pendingSeq, lastTimestamp, reserved} or
 * {'busy', ms} or {'idle'} or {'inactive', state} or {'unknown'}.
 */
const CLAIM_ONE = `${ISO_TIME}
local function claim_one(id, token, lease_ms, only_if, idle_ms, reserve_from, now)
  local key = K_INST .. id
  local f = redis.call('HMGET', key, 'tokenState', 'pending', 'leaseOwner', 'leaseUntil',
    'lastClaimedAt', 'envelope', 'tokenType', 'tokenGeneration', 'pendingSeq', 'lastTimestamp')
  if not f[1] then return {'unknown'} end
  if f[1] ~= 'active' then return {'inactive', f[1]} end
  if is_live(f[3], f[4], now) then return {'busy', fmt(tonumber(f[4]) - now)} end
  if only_if == '1' then
    local owed = f[2] == '1' or f[3] ~= false
    if not owed and idle_ms ~= '' then
      owed = (not f[5]) or tonumber(f[5]) <= now - tonumber(idle_ms)
    end
    if not owed then return {'idle'} end
  end
  local lease_until = fmt(now + tonumber(lease_ms))
  redis.call('HSET', key, 'leaseOwner', token, 'leaseUntil', lease_until,
    'lastClaimedAt', fmt(now), 'schedAt', fmt(now))
  redis.call('ZADD', K_LEASES, lease_until, id)
  redis.call('ZADD', K_SCHED, fmt(now), id)
  local reserved = false
  if reserve_from ~= '' then
    -- Strictly after the stored timestamp, as nextTimestamp() computes it.
    local last = iso_ms(f[10])
    local at = tonumber(reserve_from)
    if last and last >= at then at = last + 1 end
    reserved = ms_iso(at)
    redis.call('HSET', key, 'lastTimestamp', reserved)
  end
  return {'claimed', f[6], f[7], f[1], f[8], f[9] or '0', f[10] or false, reserved}
end
`

/** ARGV: id, token, leaseMs, onlyIf ('1'/'0'), idleMs ('' for none). Returns `claim_one`'s reply. */
export const CLAIM = `${PRELUDE}${CLAIM_ONE}
return claim_one(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], '', now_ms())
`

/**
 * ARGV: leaseMs, onlyIf, idleMs (as for CLAIM), reserveFrom ('' for none), then id, token pairs.
 * Every claim in one script (atomic as a whole, one `TIME`); returns one `claim_one` reply per
 * pair, in order.
 */
export const CLAIM_MANY = `${PRELUDE}${CLAIM_ONE}
local now, out = now_ms(), {}
for i = 5, #ARGV, 2 do
  out[#out + 1] = claim_one(ARGV[i], ARGV[i + 1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], now)
end
return out
`

/** ARGV: leaseMs, then id, token pairs. Returns the tokens still held (now renewed). */
export const RENEW = `${PRELUDE}
local lease_until = fmt(now_ms() + tonumber(ARGV[1]))
local kept = {}
for i = 2, #ARGV, 2 do
  local key = K_INST .. ARGV[i]
  if redis.call('HGET', key, 'leaseOwner') == ARGV[i + 1] then
    redis.call('HSET', key, 'leaseUntil', lease_until)
    redis.call('ZADD', K_LEASES, lease_until, ARGV[i])
    kept[#kept + 1] = ARGV[i + 1]
  end
end
return kept
`

/** ARGV: id, token. */
export const RELEASE = `${PRELUDE}
local key = K_INST .. ARGV[1]
if redis.call('HGET', key, 'leaseOwner') == ARGV[2] then
  redis.call('HDEL', key, 'leaseOwner', 'leaseUntil')
  redis.call('ZREM', K_LEASES, ARGV[1])
end
return 1
`

/** ARGV: limit. Expired leases of installations with an active token, oldest first. */
export const LIST_ABANDONED = `${PRELUDE}
local limit, out, offset = tonumber(ARGV[1]), {}, 0
local max = fmt(now_ms())
while #out < limit do
  local page = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', max, 'LIMIT', offset, 100)
  if #page == 0 then break end
  offset = offset + 100
  for _, id in ipairs(page) do
    if #out < limit and redis.call('HGET', K_INST .. id, 'tokenState') == 'active' then
      out[#out + 1] = id
    end
  end
end
return out
`

/** ARGV: retryFailedAfterMs, limit, pendingForMs. */
export const LIST_UNATTENDED = `${PRELUDE}
local now, retry, limit = now_ms(), tonumber(ARGV[1]), tonumber(ARGV[2])
local marked_before = now - tonumber(ARGV[3])
local found = {}
local seen = {}
-- Abandoned leases first (they may have nothing pending), then pending rows in order.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', fmt(now))) do
  local f = redis.call('HMGET', K_INST .. id, 'tokenState', 'pendingSince')
  if f[1] == 'active' then
    found[#found + 1] = {id, tonumber(f[2]) or -math.huge}
    seen[id] = true
  end
end
local offset, taken = 0, 0
while taken < limit do
  local page = redis.call('ZRANGE', K_PENDING, offset, offset + 99, 'WITHSCORES')
  if #page == 0 then break end
  offset = offset + 100
  for i = 1, #page, 2 do
    local id = page[i]
    if not seen[id] then
      local f = redis.call('HMGET', K_INST .. id, 'leaseOwner', 'leaseUntil', 'lastOutcome',
        'lastClaimedAt', 'pendingMarkedAt')
      local failed_recently = f[3] == 'failed' and f[4] and tonumber(f[4]) > now - retry
      local marked_recently = f[5] and tonumber(f[5]) > marked_before
      if not is_live(f[1], f[2], now) and not failed_recently and not marked_recently then
        found[#found + 1] = {id, tonumber(page[i + 1])}
        taken = taken + 1
      end
    end
  end
end
table.sort(found, function(a, b)
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[1] < b[1]
end)
local out = {}
for i = 1, math.min(limit, #found) do out[i] = found[i][1] end
return out
`

/** ARGV: olderThanMs, reserveMs, limit. Returns the reserved ids. */
export const RESERVE_DUE = `${PRELUDE}
local now, older, reserve, limit = now_ms(), tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local picked, offset = {}, 0
-- Collect first, then reserve: a reservation moves the row within the index being paged.
while #picked < limit do
  local page = redis.call('ZRANGEBYSCORE', K_SCHED, '-inf', fmt(now - older), 'LIMIT', offset, 100)
  if #page == 0 then break end
  offset = offset + 100
  for _, id in ipairs(page) do
    local f = redis.call('HMGET', K_INST .. id, 'leaseOwner', 'leaseUntil')
    if not is_live(f[1], f[2], now) and #picked < limit then picked[#picked + 1] = id end
  end
end
local sched_at = fmt(now + reserve - older)
for _, id in ipairs(picked) do
  redis.call('HSET', K_INST .. id, 'schedAt', sched_at)
  redis.call('ZADD', K_SCHED, sched_at, id)
end
return picked
`
