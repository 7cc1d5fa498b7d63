-- Each request sends a real form drawn for it: bench/run.py GETs the letter page
-- once per request beforehand and writes one line per drawing to BENCH_SIGN_FORMS,
-- "<csrftoken cookie> <urlencoded body>", the body with that page's own form token
-- and single-use stamp, a unique email on its own domain and a Unicode name. Each
-- wrk thread takes every BENCH_THREADS-th line from its own offset, so no two
-- requests send the same stamp; if a thread runs out it starts over, and those
-- repeats are caught submissions (bench/run.py counts and reports them).
local path = os.getenv("BENCH_SIGN_PATH")
local cookie = os.getenv("BENCH_CSRF_COOKIE")
local forms_file = os.getenv("BENCH_SIGN_FORMS")
local threads = tonumber(os.getenv("BENCH_THREADS") or "2")

local next_thread = 0
setup = function(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local forms = {}
local next_form = 1
init = function(args)
  local i = 0
  for line in io.lines(forms_file) do
    if i % threads == thread_id then
      local secret, body = line:match("^(%S+) (.*)$")
      forms[#forms + 1] = {secret, body}
    end
    i = i + 1
  end
end

request = function()
  local form = forms[next_form]
  next_form = next_form % #forms + 1
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie .. "=" .. form[1],
  }, form[2])
end
