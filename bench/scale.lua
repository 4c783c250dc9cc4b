-- The mixed load of bench/scale.sh: directory reads, mission reads, budgets, refused transitions, framing-note
-- revisions (a write and its audit event) and small uploads (a blob and a document). No logins: bcrypt would hide
-- what the databases cost. Arguments (after `--`): laureate token, expert token, laureate id, mission id.
dofile("bench/answers.lua")

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
    count_answers()
end
