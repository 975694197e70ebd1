-- wrk script: POST one ECG upload as the web form sends it (multipart/form-data with the ECG file(s), a name and
-- an email), the same body on every request, and print a machine-readable summary line at the end.
--
--   wrk -t1 -c8 -d20s -s loadtests/wrk/multipart.lua http://127.0.0.1:8080/api/v1/predictions -- FILE [FILE...]
--
-- Every FILE becomes one "ecg" part (give a WFDB .hea and its .dat together for one record).

local boundary = "ecg2af-wrk-7d1f0c52"
local request_bytes

local function field(name, value)
  return "--" .. boundary .. "\r\n"
    .. "Content-Disposition: form-data; name=\"" .. name .. "\"\r\n\r\n"
    .. value .. "\r\n"
end

local function file_part(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local data = f:read("*a")
  f:close()
  local filename = path:match("([^/]+)$")
  return "--" .. boundary .. "\r\n"
    .. "Content-Disposition: form-data; name=\"ecg\"; filename=\"" .. filename .. "\"\r\n"
    .. "Content-Type: application/octet-stream\r\n\r\n"
    .. data .. "\r\n"
end

function init(args)
  if #args == 0 then
    error("give the ECG file(s) after --")
  end
  local parts = {}
  for _, path in ipairs(args) do
    parts[#parts + 1] = file_part(path)
  end
  parts[#parts + 1] = field("name", "Load Test User wrk")
  parts[#parts + 1] = field("email", "load-wrk@example.org")
  parts[#parts + 1] = "--" .. boundary .. "--\r\n"
  local body = table.concat(parts)
  local headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }
  -- The API key, when the caller has one, from the environment (never on the command line).
  local key = os.getenv("ECG2AF_API_KEY")
  if key and #key > 0 then
    headers["Authorization"] = "Bearer " .. key
  end
  request_bytes = wrk.format("POST", nil, headers, body)
end

function request()
  return request_bytes
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk-json: {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"connect_errors\":%d,\"read_errors\":%d,\"write_errors\":%d,\"status_errors\":%d,\"timeouts\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
