-- wrk script: sends prepared, signed GitHub deliveries (bench/prepare.py) round-robin, each with its own
-- X-GitHub-Delivery (the signature covers only the body), and counts answers by status.
-- REQUESTS_FILE names the prepared file.

local threads = {}
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_id", thread_counter)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  for line in io.lines(os.getenv("REQUESTS_FILE")) do
    local event, signature, body = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
    requests[#requests + 1] = { event = event, signature = signature, body = body }
  end
  index = thread_id * 7919 % #requests
  sent = 0
  status_202 = 0
  status_200 = 0
  status_other = 0
end

function request()
  index = index % #requests + 1
  sent = sent + 1
  local prepared = requests[index]
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = prepared.event,
    ["X-GitHub-Delivery"] = string.format("bench-%d-%d", thread_id, sent),
    ["X-GitHub-Hook-ID"] = "4242",
    ["X-Hub-Signature-256"] = prepared.signature,
    ["User-Agent"] = "GitHub-Hookshot/bench",
  }
  return wrk.format("POST", "/webhooks/github", headers, prepared.body)
end

function response(status, headers, body)
  if status == 202 then
    status_202 = status_202 + 1
  elseif status == 200 then
    status_200 = status_200 + 1
  else
    status_other = status_other + 1
  end
end

function done(summary, latency, requests)
  local total_202, total_200, total_other = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_202 = total_202 + thread:get("status_202")
    total_200 = total_200 + thread:get("status_200")
    total_other = total_other + thread:get("status_other")
  end
  io.write(string.format("STATUS_202=%d\nSTATUS_200=%d\nSTATUS_OTHER=%d\n", total_202, total_200, total_other))
  io.write(string.format("P50_US=%d\nP99_US=%d\n", latency:percentile(50), latency:percentile(99)))
  io.write(string.format("RPS=%.0f\n", summary.requests / (summary.duration / 1e6)))
end
