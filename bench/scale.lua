-- The mixed load of bench/scale.sh: directory reads, mission reads, budgets, refused transitions, framing-note
-- revisions (a write and its audit event) and small uploads (a blob and a document). No logins: bcrypt would hide
-- what the databases cost. Arguments (after `--`): laureate token, expert token, laureate id, mission id.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    local laureate, expert, laureateID, mission = args[1], args[2], args[3], args[4]
    local function auth(token, extra)
        local headers = { ["Authorization"] = "Bearer " .. token }
        for k, v in pairs(extra or {}) do headers[k] = v end
        return headers
    end
    local json = { ["Content-Type"] = "application/json" }
    local note = '{"needs":[{"subtheme":"4.2","priority":"high","description":"Consolider le modèle économique"}]}'
    local mix = {
        { 6, wrk.format("GET", "/v1/directory/experts?q=bois") },
        { 4, wrk.format("GET", "/v1/directory/experts?subtheme=4.2&region=84") },
        { 6, wrk.format("GET", "/v1/missions", auth(laureate)) },
        { 4, wrk.format("GET", "/v1/missions?limit=50", auth(expert)) },
        { 4, wrk.format("GET", "/v1/missions/" .. mission, auth(laureate)) },
        { 2, wrk.format("GET", "/v1/laureates/" .. laureateID .. "/budget", auth(laureate)) },
        { 2, wrk.format("POST", "/v1/missions/" .. mission .. "/transitions", auth(expert, { ["Content-Type"] = "application/json", ["If-Match"] = "*" }), '{"action":"scope"}') },
        { 2, wrk.format("POST", "/v1/laureates/" .. laureateID .. "/framing-notes", auth(laureate, json), note) },
        { 1, wrk.format("POST", "/v1/missions/" .. mission .. "/documents?kind=deliverable&file_name=charge.txt", auth(laureate, { ["Content-Type"] = "application/octet-stream" }), "Compte rendu de charge\n") },
    }
    requests = {}
    for _, entry in ipairs(mix) do
        for _ = 1, entry[1] do table.insert(requests, entry[2]) end
    end
    ok, refused, failed = 0, 0, 0
    math.randomseed(os.time() + #threads)
end

function request()
    return requests[math.random(#requests)]
end

function response(status, headers, body)
    if status >= 500 then
        failed = failed + 1
    elseif status >= 400 then
        refused = refused + 1
    else
        ok = ok + 1
    end
end

function done(summary, latency, requests)
    local a, b, c = 0, 0, 0
    for _, thread in ipairs(threads) do
        a = a + thread:get("ok")
        b = b + thread:get("refused")
        c = c + thread:get("failed")
    end
    io.write(string.format("ANSWERS ok=%d refused=%d failed=%d socket_errors=%d timeouts=%d\n", a, b, c,
        summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout))
end
