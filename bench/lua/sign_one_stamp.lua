-- Used by bench/hot_counter.py only. Its one stamp is single-use now (signatures/abuse/bots.py):
-- after the first POST the rest are caught submissions. bench/run.py draws a real form per
-- POST instead (bench/lua/sign.lua).
-- Each request signs as a new person: a new CSRF cookie with its masked form
-- token (Django's double-submit check, done in full), a unique email on its own
-- domain, a Unicode name. The rest of the form comes from the real page
-- (bench/run.py passes it in BENCH_SIGN_BODY).
local body = os.getenv("BENCH_SIGN_BODY")
local path = os.getenv("BENCH_SIGN_PATH")
local cookie = os.getenv("BENCH_CSRF_COOKIE")
local run = os.getenv("BENCH_RUN")
local names = {}
for name in string.gmatch(os.getenv("BENCH_NAMES"), "[^|]+") do names[#names + 1] = name end

local chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
local index = {}
for i = 1, #chars do index[chars:sub(i, i)] = i - 1 end

local function random_string(n)
  local out = {}
  for i = 1, n do
    local r = math.random(1, 62)
    out[i] = chars:sub(r, r)
  end
  return table.concat(out)
end

-- django.middleware.csrf._mask_cipher_secret
local function mask(secret)
  local m = random_string(32)
  local out = {}
  for i = 1, 32 do
    local c = (index[secret:sub(i, i)] + index[m:sub(i, i)]) % 62 + 1
    out[i] = chars:sub(c, c)
  end
  return m .. table.concat(out)
end

local next_thread = 1
setup = function(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local counter = 0
init = function(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

request = function()
  counter = counter + 1
  local secret = random_string(32)
  local tag = run .. "." .. tostring(thread_id) .. "." .. counter
  local email = "signer." .. tag .. "%40d" .. tostring(thread_id) .. "x" .. counter .. "." .. run .. ".example.org"
  local form = body .. "&csrfmiddlewaretoken=" .. mask(secret) .. "&email=" .. email
    .. "&full_name=" .. names[math.random(1, #names)]
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie .. "=" .. secret,
  }, form)
end
