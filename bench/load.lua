-- Okta-shaped import hook load for wrk (-t1): every request has a new eventId and a new app
-- user; one in five reuses the login of an earlier request of this run (a colliding user), half
-- of those flagged by Okta in data.context.conflicts. The same requests go to the service and
-- to the floor server.
--
-- Arguments after "--": <prefix unique per run> <auth secret> <keep-alive|close>
-- Prints one line "BENCH_RESULT {json}" when done.

local prefix = "run"
local close = false
local n = 0
local unique = 0
local middles = { "Alexander", "Lakshmi", "Marie", "James", "Oluwaseun", "Ines", "Kenji", "Rosa" }
local lasts = { "smith", "natarajan", "garcia", "nguyen", "okafor", "muller", "tanaka", "silva" }

local template = [[{"source":"calO4FWiXsd9tNNHVrtj","eventId":"%s","eventTime":"2026-03-02T08:15:41.000Z","eventTypeVersion":"1.0","cloudEventVersion":"0.1","eventType":"com.okta.import.transform","contentType":"application/json","data":{"context":{"conflicts":[%s],"application":{"name":"csv_directory","id":"0oay4R1bMQCPua2KlzFi","label":"Ridgeline HR Feed","status":"ACTIVE"},"job":{"id":"job-%s","type":"import:users"},"matches":[],"policy":["EMAIL","FIRST_AND_LAST_NAME"]},"action":{"result":"CREATE_USER"},"appUser":{"profile":{"employeeId":"%s","userName":"%s","firstName":"User","middleName":"%s","lastName":"%s","email":"%s","department":"Logistics"}},"user":{"profile":{"login":"%s","email":"%s","firstName":"User","middleName":"%s","lastName":"%s","secondEmail":null,"mobilePhone":null,"primaryPhone":null,"streetAddress":null,"city":null,"state":null,"zipCode":null,"countryCode":null,"postAddress":null,"typeId":null}}}}]]

function init(args)
  prefix = args[1] or prefix
  local secret = args[2] or ""
  close = args[3] == "close"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Authorization"] = secret
  if close then wrk.headers["Connection"] = "close" end
end

local function loginOf(k)
  return string.format("%sn%d.%s@bench.example", prefix, k, lasts[(k % #lasts) + 1])
end

function request()
  n = n + 1
  local login
  local conflicts = ""
  if n % 5 == 0 and unique > 0 then
    login = loginOf(math.random(1, unique))
    if n % 10 == 0 then conflicts = '"login"' end
  else
    unique = unique + 1
    login = loginOf(unique)
  end
  local middle = middles[(n % #middles) + 1]
  local last = lasts[(n % #lasts) + 1]
  local body = string.format(template, prefix .. "-evt-" .. n, conflicts, prefix, prefix .. "-emp-" .. n,
    login, middle, last, login, login, login, middle, last)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
