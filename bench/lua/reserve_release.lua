-- Reserve one unit, then release that reservation, over and over: the inventory's hold path.
-- $BENCH_VARIANTS holds variant ids (one a line); $BENCH_MODE is `hot` (always the first one:
-- every request contends for one variant's lock) or `spread` (a random one each time).
-- Each wrk thread keeps a queue of the reservations its answers created: request() releases the
-- oldest one if there is any, else reserves. So every connection alternates, give or take the
-- order in which the thread's connections are answered.
-- Globals, not locals: done() reads them from each thread with thread:get().
threads = {}
variants = {}
queue, first, last = {}, 1, 0
reserves, reserved, released = 0, 0, 0
statuses = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    for line in io.lines(os.getenv("BENCH_VARIANTS")) do
        if line ~= "" then variants[#variants + 1] = line end
    end
    if #variants == 0 then error("no variants in " .. os.getenv("BENCH_VARIANTS")) end
    hot = os.getenv("BENCH_MODE") == "hot"
    math.randomseed(os.time() * 31 + id)
    send = {}
    for k, v in pairs(wrk.headers) do send[k] = v end
    send["Content-Type"] = "application/json"
end

function request()
    if first <= last then
        local reservation = queue[first]
        queue[first] = nil
        first = first + 1
        return wrk.format("POST", "/api/v1/admin/inventory/reservations/" .. reservation .. "/release", send, "")
    end
    reserves = reserves + 1
    local variant = hot and variants[1] or variants[math.random(#variants)]
    local body = '{"reference":"bench-' .. id .. "-" .. reserves .. '","lines":[{"variant_id":"' .. variant
        .. '","quantity":1}]}'
    return wrk.format("POST", "/api/v1/admin/inventory/reservations", send, body)
end

-- 201 answers a reservation (its body starts with its id), 200 a release.
function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status == 201 then
        local reservation = body:match('^{"id":"([^"]+)"')
        if reservation then
            reserved = reserved + 1
            last = last + 1
            queue[last] = reservation
        end
    elseif status == 200 then
        released = released + 1
    end
end

-- Lines the script reads back: `pairs: <releases> in <seconds> s` and one per other status.
function done(summary, latency, requests)
    local made, freed = 0, 0
    local other = {}
    for _, thread in ipairs(threads) do
        made = made + thread:get("reserved")
        freed = freed + thread:get("released")
        for status, count in pairs(thread:get("statuses")) do
            if status ~= 200 and status ~= 201 then other[status] = (other[status] or 0) + count end
        end
    end
    for status, count in pairs(other) do
        io.write(string.format("  status %d: %d responses\n", status, count))
    end
    io.write(string.format("reserved: %d\n", made))
    io.write(string.format("pairs: %d in %.3f s\n", freed, summary.duration / 1e6))
end
