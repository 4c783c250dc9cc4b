-- The programme's traffic mixed for wrk: public directory reads, logins, a laureate's and an expert's mission and
-- document reads, framing-note revisions, refused transitions and small uploads. Counts answers by class.
-- Arguments (after `--`): laureate token, expert token, admin token, laureate id, mission id, document id,
-- laureate e-mail, laureate password.
dofile("bench/answers.lua")

function init(args)
    local laureate, expert, admin, laureateID, mission, document, email, password =
        args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8]
    local function auth(token, extra)
        local headers = { ["Authorization"] = "Bearer " .. token }
        for k, v in pairs(extra or {}) do headers[k] = v end
        return headers
    end
    local json = { ["Content-Type"] = "application/json" }
    local note = '{"needs":[{"subtheme":"4.2","priority":"high","description":"Consolider le modèle économique"}]}'
    local mix = {
        { 8, wrk.format("GET", "/v1/directory/experts?q=bois") },
        { 4, wrk.format("GET", "/v1/directory/experts?subtheme=4.2&region=84") },
        { 2, wrk.format("GET", "/v1/taxonomy") },
        { 1, wrk.format("POST", "/v1/auth/token", json, '{"email":"' .. email .. '","password":"' .. password .. '"}') },
        { 6, wrk.format("GET", "/v1/missions", auth(laureate)) },
        { 4, wrk.format("GET", "/v1/missions?limit=50", auth(expert)) },
        { 4, wrk.format("GET", "/v1/missions/" .. mission, auth(laureate)) },
        { 2, wrk.format("GET", "/v1/laureates/" .. laureateID .. "/budget", auth(laureate)) },
        { 2, wrk.format("GET", "/v1/documents?updated_after=0&limit=50", auth(admin)) },
        { 4, wrk.format("GET", "/v1/documents/" .. document .. "/content", auth(laureate)) },
        { 1, wrk.format("POST", "/v1/laureates/" .. laureateID .. "/framing-notes", auth(laureate, json), note) },
        { 1, wrk.format("POST", "/v1/missions/" .. mission .. "/transitions", auth(expert, { ["Content-Type"] = "application/json", ["If-Match"] = "*" }), '{"action":"scope"}') },
        { 1, wrk.format("POST", "/v1/missions/" .. mission .. "/documents?kind=deliverable&file_name=charge.txt", auth(laureate, { ["Content-Type"] = "application/octet-stream" }), "Compte rendu de charge\n") },
    }
    requests = {}
    for _, entry in ipairs(mix) do
        for _ = 1, entry[1] do table.insert(requests, entry[2]) end
    end
    count_answers()
end
