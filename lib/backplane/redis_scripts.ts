/**
 * The Lua scripts of the Redis delivery store. Each runs atomically on the server. All keys of
 * one uid share the hash tag `{u:<uid>}`, so in a Redis Cluster a uid's sessions, streams and
 * offline buffer live in one slot and a script may touch the uid's session keys it derives from
 * the index (they are in the declared keys' slot).
 *
 * Key layout (`P` = `<prefix>:{u:<escaped uid>}`):
 * - `P:s` hash session id → "1": the uid's sessions (stale entries pruned lazily: by HOLD, and
 *   a few by each DETACH, whose HSCAN cursor is the string `P:sx`);
 * - `P:s:<sid>` hash: `client`, `cur`/`prev` (SHA-256 of the newest and previous secret),
 *   `out` (last seq), `in` (inbound high-water mark), `at` (`node|conn`, "" when detached), `pk`
 *   (`node|conn` that detached it last);
 * - `P:q:<sid>` stream: the unacknowledged messages, entry id `<seq>-0`, fields `p` (payload) and
 *   `c` (the session's payload bytes appended through it: `tb` in the hash; see APPEND_ONE);
 * - `P:c:<sid>` set: the channels a detached session keeps; each such channel has an index
 *   `<prefix>:{c:<escaped channel>}:k` of `<sid><uid>` members (its own slot: a channel's
 *   publishes visit the sessions one script each; a session leaving the channel leaves it at
 *   once, an expired one is pruned by the next publish);
 * - channel streams (channel sequences), in the channel's slot: `<prefix>:{c:<escaped channel>}:m`
 *   hash (`base`: the number before the first, as a decimal string; `n`: messages numbered; `b`:
 *   payload bytes kept) and
 *   `<prefix>:{c:<escaped channel>}:l` stream (entry id `<n>-0`, field `p`); the hash lives
 *   `2 × ttl` after the last message, the stream `ttl`; a channel's publish makes them only
 *   while its holders, the sorted set `<prefix>:{c:<escaped channel>}:h` of `<sid><uid>` members
 *   scored by when they lapse (ms), has one that has not (sessions with channel sequences that
 *   keep the channel: refreshed while attached, `ttl` after they detach, removed when they leave
 *   the channel); the set lives `ttl` after its last refresh;
 * - `P:o` stream: the offline buffer (auto ids: their ms part dates each message), `P:oc` hash:
 *   `n` (messages buffered) and `overflow` (trimmed by length) since the last drain; it lives
 *   `2 × ttl` after the last message, so what expired (`n` − delivered − overflow) is still
 *   reported after the stream itself expired.
 *
 * @module
 */

/** KEYS: index, meta. ARGV: sid, client id, secret hash, attachment, ttl ms. */
export const CREATE = `
redis.call('HSET', KEYS[2], 'client', ARGV[2], 'cur', ARGV[3], 'prev', '', 'out', 0, 'in', 0, 'at', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[1], ARGV[1], '1')
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/**
 * KEYS: index, meta, stream, kept channels. ARGV: sid, client id, presented hash, new hash,
 * attachment, ttl, keep channels (1: the channel set stays, for store-first delivery). Returns {'unknown'} | {'rejected'} | {'opened', out, in, previous attachment,
 * channel…} (the kept channels move to the caller). Compares SHA-256 digests, so the
 * comparison's timing says nothing about the secret.
 */
export const OPEN = `
if redis.call('EXISTS', KEYS[2]) == 0 then return {'unknown'} end
local m = redis.call('HMGET', KEYS[2], 'client', 'cur', 'prev', 'out', 'in', 'at')
if m[1] ~= ARGV[2] or (m[2] ~= ARGV[3] and m[3] ~= ARGV[3]) then return {'rejected'} end
redis.call('HSET', KEYS[2], 'cur', ARGV[4], 'prev', ARGV[3], 'at', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
redis.call('HSET', KEYS[1], ARGV[1], '1')
redis.call('PEXPIRE', KEYS[1], ARGV[6])
local res = {'opened', m[4], m[5], m[6] or ''}
for _, c in ipairs(redis.call('SMEMBERS', KEYS[4])) do res[#res + 1] = c end
if ARGV[7] ~= '1' then redis.call('DEL', KEYS[4]) end
return res`;

/**
 * The append of one message to one session (shared by APPEND, APPEND_KEPT and HOLD): keeps about
 * `max` messages (`MAXLEN ~`, as before) and trims the oldest while the stream holds more than
 * `maxb` bytes of payload, never the newest; a resume tells the trimmed as an `overflow` gap. Each entry carries `c`, the session's
 * payload bytes appended through it (`tb` in the hash), so the bytes kept are `tb` minus what was
 * appended before the oldest entry, however acks (a plain XTRIM) trimmed the stream. `tf` in the
 * hash remembers that for the oldest entry seen: acks only raise it, so while `tb − tf` is within
 * `maxb` nothing is read; past it the oldest entry is read (one per trimmed message).
 */
const APPEND_ONE = `
local function append(meta, stream, payload, max, maxb)
  local seq = redis.call('HINCRBY', meta, 'out', 1)
  local t = redis.call('HINCRBY', meta, 'tb', #payload)
  redis.call('XADD', stream, 'MAXLEN', '~', max, seq .. '-0', 'p', payload, 'c', t)
  maxb = tonumber(maxb)
  local from = tonumber(redis.call('HGET', meta, 'tf') or 0)
  if t - from > maxb then
    local len = redis.call('XLEN', stream)
    while true do
      local e = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
      from = tonumber(e[2][4] or t) - #e[2][2]
      if len <= 1 or t - from <= maxb then break end
      redis.call('XDEL', stream, e[1])
      len = len - 1
    end
    redis.call('HSET', meta, 'tf', from)
  end
  local ttl = redis.call('PTTL', meta)
  if ttl > 0 then redis.call('PEXPIRE', stream, ttl) end
  return seq
end`;

/** KEYS: meta, stream. ARGV: payload, max, max bytes. Returns the seq (0: no such session). */
export const APPEND = `${APPEND_ONE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return append(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])`;

/** KEYS: meta, stream. ARGV: first seq wanted, max count. Returns {out, seq, payload, …}. */
export const REPLAY = `
local out = redis.call('HGET', KEYS[1], 'out')
if not out then return {-1} end
local res = {tonumber(out)}
for _, e in ipairs(redis.call('XRANGE', KEYS[2], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])) do
  res[#res + 1] = tonumber(string.match(e[1], '^(%d+)'))
  res[#res + 1] = e[2][2]
end
return res`;

/** KEYS: meta. ARGV: seq. Returns the high-water mark after raising it. */
export const MARK_INBOUND = `
local cur = redis.call('HGET', KEYS[1], 'in')
if not cur then return 0 end
cur = tonumber(cur)
local seq = tonumber(ARGV[1])
if seq > cur then redis.call('HSET', KEYS[1], 'in', seq) return seq end
return cur`;

/**
 * KEYS: meta, stream, kept channels, index, index cursor. ARGV: attachment, ttl, session key head
 * (`P:s:`), channel…. Detaches only the named attachment (remembered as `pk`, who parked it, for
 * EVICT); the session then keeps the channels. Returns 1 when it detached. Also prunes the index
 * a step (HSCAN from the cursor kept in `P:sx`; a small hash whole): entries of sessions that
 * expired, which nothing else removes for a uid nobody sends to (every anonymous client shares
 * one), else the hash would grow while new sessions keep refreshing it. Here, not in CREATE:
 * a session parks about once, and a park is off the handshake's path.
 */
export const DETACH = `
local cursor = redis.call('GET', KEYS[5]) or '0'
local scan = redis.call('HSCAN', KEYS[4], cursor, 'COUNT', 4)
for i = 1, #scan[2], 2 do
  local sid = scan[2][i]
  if redis.call('EXISTS', ARGV[3] .. sid) == 0 then redis.call('HDEL', KEYS[4], sid) end
end
if scan[1] ~= cursor then redis.call('SET', KEYS[5], scan[1], 'PX', ARGV[2]) end
if redis.call('HGET', KEYS[1], 'at') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'at', '', 'pk', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
if #ARGV > 3 then
  redis.call('SADD', KEYS[3], unpack(ARGV, 4))
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
return 1`;

/**
 * KEYS: meta, stream, kept channels, index. ARGV: attachment, sid. Drops the session only while
 * it is detached and was parked by that attachment (a resumed or re-parked one is kept). Returns
 * {count of messages it held, kept channel…}, or {-1} when kept. The kept-channel indexes (other
 * slots) are pruned lazily, as for an expired session; the caller drops it from the channels'
 * stream holders.
 */
export const EVICT = `
local m = redis.call('HMGET', KEYS[1], 'at', 'pk')
if m[1] ~= '' or m[2] ~= ARGV[1] then return {-1} end
local res = {redis.call('XLEN', KEYS[2])}
for _, c in ipairs(redis.call('SMEMBERS', KEYS[3])) do res[#res + 1] = c end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('HDEL', KEYS[4], ARGV[2])
return res`;

/**
 * KEYS: meta, stream, kept channels. ARGV: payload, max, channel, attached too (1/0), max bytes.
 * Numbers the payload into the session when it is detached (or attached too) and keeps the
 * channel: returns the seq, -2 when it is attached (skipped), or -1 when it does not keep the
 * channel (the caller drops it from the channel's index).
 */
export const APPEND_KEPT = `${APPEND_ONE}
local at = redis.call('HGET', KEYS[1], 'at')
if not at then return -1 end
if redis.call('SISMEMBER', KEYS[3], ARGV[3]) == 0 then return -1 end
if at ~= '' and ARGV[4] ~= '1' then return -2 end
return append(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[5])`;

/**
 * KEYS: index, offline stream, offline counters. ARGV: payload, offline (1/0), max, ttl, session
 * key head (`P:s:`), stream key head (`P:q:`), attached too (1/0), max bytes. Numbers the payload
 * into each detached session; with none and offline = 1 it goes to the offline buffer. Returns {sessions, buffered}.
 */
export const HOLD = `${APPEND_ONE}
local n = 0
for _, sid in ipairs(redis.call('HKEYS', KEYS[1])) do
  local meta = ARGV[5] .. sid
  local at = redis.call('HGET', meta, 'at')
  if not at then
    redis.call('HDEL', KEYS[1], sid)
  elseif at == '' or ARGV[7] == '1' then
    append(meta, ARGV[6] .. sid, ARGV[1], ARGV[3], ARGV[8])
    n = n + 1
  end
end
if n > 0 or ARGV[2] ~= '1' then return {n, 0} end
redis.call('XADD', KEYS[2], '*', 'p', ARGV[1])
redis.call('HINCRBY', KEYS[3], 'n', 1)
local t = redis.call('TIME')
local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[4])
redis.call('XTRIM', KEYS[2], 'MINID', '~', cutoff)
local overflow = redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', ARGV[3])
if overflow > 0 then redis.call('HINCRBY', KEYS[3], 'overflow', overflow) end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], 2 * tonumber(ARGV[4]))
return {0, 1}`;

/**
 * KEYS: offline stream, counters. ARGV: max, ttl. Takes the buffer (deletes it), dropping what is
 * past the TTL or beyond the newest `max`. Returns {overflow, expired, payload, …}.
 */
export const DRAIN = `
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
local c = redis.call('HMGET', KEYS[2], 'n', 'overflow')
redis.call('DEL', KEYS[1], KEYS[2])
local n = tonumber(c[1] or 0)
local overflow = tonumber(c[2] or 0)
local t = redis.call('TIME')
local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[2])
local kept = {}
for _, e in ipairs(entries) do
  if tonumber(string.match(e[1], '^(%d+)')) > cutoff then kept[#kept + 1] = e[2][2] end
end
local max = tonumber(ARGV[1])
local skip = 0
if #kept > max then skip = #kept - max end
overflow = overflow + skip
local delivered = #kept - skip
local expired = n - delivered - overflow
if expired < 0 then expired = 0 end
local res = {overflow, expired}
for i = skip + 1, #kept do res[#res + 1] = kept[i] end
return res`;

/** Lua: the server's time in ms. */
const NOW_MS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/** Lua: `member` holds the channel stream whose holder set is `key` for `ttl` ms from now. */
const HOLD_FN = `${NOW_MS}
local function hold(key, member, ttl)
  redis.call('ZADD', key, now_ms() + tonumber(ttl), member)
  redis.call('PEXPIRE', key, ttl)
end`;

/** KEYS: channel holders. ARGV: member, ttl. The member holds the stream `ttl` ms from now. */
export const HOLD_STREAM = `${HOLD_FN}
hold(KEYS[1], ARGV[1], ARGV[2])
return 1`;

/**
 * KEYS: channel meta, channel log, channel holders. ARGV: payload, max, ttl, max bytes, held
 * (1/0). With held = 1 and no holder left (lapsed ones pruned), stores nothing and returns
 * {0, 0}. Else numbers the payload in the
 * channel's stream (made with `base` = the server's time in ms × 1000 when missing, built as a
 * string: Lua would print so large a number in exponent form) and trims the oldest while the
 * stream holds more than `max` messages or `max bytes` of payload (`b` in the meta: the bytes
 * kept; never the newest). Returns {base, n}: its number is base + n.
 */
export const APPEND_CHANNEL = `${NOW_MS}
if ARGV[5] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now_ms())
  if redis.call('ZCARD', KEYS[3]) == 0 then return {0, 0} end
end
local base = redis.call('HGET', KEYS[1], 'base')
if not base then
  local t = redis.call('TIME')
  base = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)) .. '000'
  redis.call('HSET', KEYS[1], 'base', base, 'n', 0)
end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('HSET', KEYS[1], 'b', 0) end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('XADD', KEYS[2], n .. '-0', 'p', ARGV[1])
local b = redis.call('HINCRBY', KEYS[1], 'b', #ARGV[1])
local len = redis.call('XLEN', KEYS[2])
local max, maxb = tonumber(ARGV[2]), tonumber(ARGV[4])
while len > 1 and (len > max or b > maxb) do
  local e = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  redis.call('XDEL', KEYS[2], e[1])
  b = b - #e[2][2]
  len = len - 1
end
redis.call('HSET', KEYS[1], 'b', b)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[3]))
return {base, n}`;

/**
 * KEYS: channel meta, channel log, channel holders. ARGV: first n wanted (0: none), max count,
 * holder member ("": none), ttl. The member (if any) holds the stream from this read on. Returns
 * {base, n, first kept n or 0, n, payload, …} (base "" when the stream does not exist).
 */
export const CHANNEL_SINCE = `${HOLD_FN}
if ARGV[3] ~= '' then hold(KEYS[3], ARGV[3], ARGV[4]) end
local m = redis.call('HMGET', KEYS[1], 'base', 'n')
if not m[1] then return {''} end
local res = {m[1], tonumber(m[2])}
local head = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
res[3] = 0
if #head > 0 then res[3] = tonumber(string.match(head[1][1], '^(%d+)')) end
if tonumber(ARGV[1]) > 0 then
  for _, e in ipairs(redis.call('XRANGE', KEYS[2], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])) do
    res[#res + 1] = tonumber(string.match(e[1], '^(%d+)'))
    res[#res + 1] = e[2][2]
  end
end
return res`;
