-- Shared by the wrk scripts of bench/: counts answers by class in each thread and prints them together at the end,
-- as one line `ANSWERS ok=… refused=… failed=… socket_errors=… timeouts=…` the shell scripts read.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function count_answers()
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
